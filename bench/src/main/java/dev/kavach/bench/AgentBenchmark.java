package dev.kavach.bench;

import dev.kavach.backend.ExecSpec;
import dev.kavach.internal.guest.AgentBinary;
import dev.kavach.internal.guest.AgentClient;
import dev.kavach.internal.guest.Cpio;
import java.io.File;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the guest agent's protocol costs on top of a spawn, with the agent as a host process on a
 * Unix socket (no VM: this machine kind cannot boot one). In a microVM the vsock hop replaces the
 * Unix socket. The baseline is a plain {@code /bin/true} spawn from the same JVM. Also the cost of
 * building a confidential guest's initrd (agent + a 1 MiB tool) in Java.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class AgentBenchmark {
  private static final ExecSpec TRUE =
      new ExecSpec(
          "bench",
          List.of("/bin/true"),
          Map.of("PATH", "/usr/bin:/bin"),
          new byte[0],
          Duration.ofSeconds(10),
          1 << 20,
          List.of());
  private static final ExecSpec OUTPUT_1M =
      new ExecSpec(
          "bench",
          List.of("/bin/sh", "-c", "head -c 1048576 /dev/zero"),
          Map.of("PATH", "/usr/bin:/bin"),
          new byte[0],
          Duration.ofSeconds(10),
          2 << 20,
          List.of());

  private Path dir;
  private Process agent;
  private AgentClient client;
  private byte[] agentBytes;
  private final byte[] tool = new byte[1 << 20];

  @Setup(Level.Trial)
  public void setUp() throws IOException, InterruptedException {
    dir = Files.createTempDirectory(Path.of("/dev/shm"), "kavach-bench-agent-");
    Path binary = AgentBinary.extract(dir);
    agentBytes = AgentBinary.bytes();
    Path sock = dir.resolve("agent.sock");
    agent =
        new ProcessBuilder(List.of(binary.toString(), "--unix", sock.toString()))
            .redirectInput(new File("/dev/null"))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("agent.log").toFile())
            .start();
    client =
        new AgentClient(
            () -> {
              SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
              ch.connect(UnixDomainSocketAddress.of(sock));
              return ch;
            });
    for (int i = 0; i < 500 && !Files.exists(sock); i++) {
      Thread.sleep(10);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException, InterruptedException {
    agent.destroy();
    agent.waitFor();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** Baseline: spawn and wait for {@code /bin/true}. */
  @Benchmark
  public int spawnTrue() throws IOException, InterruptedException {
    return new ProcessBuilder("/bin/true").start().waitFor();
  }

  /** {@code /bin/true} through the agent: connect, request, fork/exec, tree check, exit frame. */
  @Benchmark
  public int agentTrue() {
    return client.run(TRUE, "/").exitCode();
  }

  /** 1 MiB of output streamed back in 64 KiB frames. */
  @Benchmark
  public int agentOutput1MiB() {
    return client.run(OUTPUT_1M, "/").stdout().length;
  }

  /** A deterministic initrd of the agent and a 1 MiB tool with 300 links, in memory. */
  @Benchmark
  public byte[] initrd() {
    Cpio c = new Cpio().file("init", 0755, agentBytes).file("bin/busybox", 0755, tool);
    for (int i = 0; i < 300; i++) {
      c.symlink("bin/applet" + i, "busybox");
    }
    return c.toBytes();
  }
}
