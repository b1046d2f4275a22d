package dev.kavach.internal.guest;

import dev.kavach.internal.fs.Trees;
import java.io.File;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * kavach-agent running as a host process on a Unix socket, behind a {@link VsockShim}: the same
 * bytes and the same handshake a microVM's agent would see, minus the VM. Lives in {@code
 * /dev/shm/kavach-<id>}, so the agent's argv names the sandbox id for leak checks.
 */
public final class AgentHarness implements AutoCloseable {
  private final Path runDir;
  private final Process agent;
  private final VsockShim shim;
  private final Path uds;

  private AgentHarness(Path runDir, Process agent, VsockShim shim, Path uds) {
    this.runDir = runDir;
    this.agent = agent;
    this.shim = shim;
    this.uds = uds;
  }

  /** Starts an agent and its shim for this id and waits until the agent answers a ping. */
  public static AgentHarness start(String id) throws IOException {
    Path runDir = GuestVm.runDirectory("agent", id);
    Path binary = AgentBinary.extract(runDir);
    Path agentSocket = runDir.resolve("agent.sock");
    Process p =
        new ProcessBuilder(List.of(binary.toString(), "--unix", agentSocket.toString()))
            .redirectInput(new File("/dev/null"))
            .redirectOutput(runDir.resolve("agent.log").toFile())
            .redirectErrorStream(true)
            .start();
    Path uds = runDir.resolve("v.sock");
    VsockShim shim = new VsockShim(uds, agentSocket, AgentProtocol.DEFAULT_PORT);
    AgentHarness h = new AgentHarness(runDir, p, shim, uds);
    try {
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (true) {
        try {
          h.client().ping();
          return h;
        } catch (IOException e) {
          if (System.nanoTime() > deadline || !p.isAlive()) {
            throw new IOException(
                "agent did not come up: " + Files.readString(runDir.resolve("agent.log")), e);
          }
          Thread.sleep(10);
        }
      }
    } catch (IOException | RuntimeException e) {
      h.close();
      throw e;
    } catch (InterruptedException e) {
      h.close();
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  /** The Firecracker-style socket. */
  public Path uds() {
    return uds;
  }

  /** A fresh handshaken connection to the agent. */
  public SocketChannel connect() throws IOException {
    return VsockChannel.connect(uds, AgentProtocol.DEFAULT_PORT);
  }

  /** A client for the agent. */
  public AgentClient client() {
    return new AgentClient(this::connect);
  }

  /** The agent process. */
  public Process process() {
    return agent;
  }

  /** Stops the agent with SIGTERM (it kills every session's tree), then removes the run dir. */
  @Override
  public void close() throws IOException {
    shim.close();
    agent.destroy();
    try {
      if (!agent.waitFor(10, TimeUnit.SECONDS)) {
        agent.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Trees.deleteRecursively(runDir);
  }
}
