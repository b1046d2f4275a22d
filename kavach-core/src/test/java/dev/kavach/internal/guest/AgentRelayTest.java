package dev.kavach.internal.guest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kavach.internal.exec.Exec;
import java.io.File;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host-side relay for QEMU guests ({@code kavach-agent --relay}), as far as can be tested
 * without sending anything over vsock: on this machine kind the only vsock transport leads to the
 * machine's own hypervisor, so no test here asks the relay to connect. It must refuse a handshake
 * that is not {@code CONNECT <port>} by closing, like Firecracker, without touching vsock.
 */
@Timeout(30)
class AgentRelayTest {

  @Test
  void relayClosesOnAMalformedHandshakeWithoutConnecting(@TempDir Path dir) throws Exception {
    Path agent = AgentBinary.extract(dir);
    Path sock = dir.resolve("relay.sock");
    Path log = dir.resolve("relay.log");
    Process relay =
        new ProcessBuilder(List.of(agent.toString(), "--relay", sock.toString(), "--cid", "77"))
            .redirectInput(new File("/dev/null"))
            .redirectOutput(log.toFile())
            .redirectErrorStream(true)
            .start();
    try {
      for (String hello : List.of("CONNECT x\n", "GET / HTTP/1.1\r\n", "CONNECT\n")) {
        try (SocketChannel ch = connectWhenListening(sock)) {
          ch.write(ByteBuffer.wrap(hello.getBytes(StandardCharsets.US_ASCII)));
          assertThat(ch.read(ByteBuffer.allocate(16))).as(hello).isEqualTo(-1);
        }
      }
      // Nothing was attempted over vsock: a connect attempt would have logged its failure.
      assertThat(Files.readString(log, StandardCharsets.UTF_8)).isEmpty();
    } finally {
      relay.destroy();
      assertThat(relay.waitFor(10, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(sock).doesNotExist();
  }

  /**
   * The socket file appears at bind(), before listen(): until then a connect is refused, so retry
   * rather than take the file's existence as readiness.
   */
  private static SocketChannel connectWhenListening(Path sock) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
      try {
        ch.connect(UnixDomainSocketAddress.of(sock));
        return ch;
      } catch (java.io.IOException e) {
        ch.close();
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(10);
      }
    }
  }

  @Test
  void relayRefusesTheHostAndReservedCids(@TempDir Path dir) {
    Path agent = AgentBinary.extract(dir);
    Exec.Result r =
        Exec.run(
            Exec.command(
                    List.of(agent.toString(), "--relay", dir.resolve("s").toString(), "--cid", "2"))
                .timeout(Duration.ofSeconds(10))
                .build());
    assertThat(r.exitValue()).isEqualTo(2);
    assertThat(r.stderrText()).contains("--relay needs --cid N with N >= 3");
  }

  @Test
  void aUnixTestServerEndsWithItsParentAndTakesItsCommandsAlong(@TempDir Path dir)
      throws Exception {
    Path agent = AgentBinary.extract(dir);
    Path sock = dir.resolve("a.sock");
    String marker =
        "3600."
            + java.util.concurrent.ThreadLocalRandom.current().nextInt(100_000_000, 999_999_999);
    // The parent shell starts the agent, waits until a command runs in it, then exits.
    Process parent =
        new ProcessBuilder(
                List.of(
                    "/bin/sh",
                    "-c",
                    "\"$0\" --unix \"$1\" & sleep 30 & wait $!",
                    agent.toString(),
                    sock.toString()))
            .redirectInput(new File("/dev/null"))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("log").toFile())
            .start();
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!Files.exists(sock) && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    Thread t =
        new Thread(
            () -> {
              try {
                new AgentClient(
                        () -> {
                          SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
                          c.connect(UnixDomainSocketAddress.of(sock));
                          return c;
                        })
                    .run(
                        new dev.kavach.backend.ExecSpec(
                            "t",
                            List.of("/bin/sleep", marker),
                            java.util.Map.of(),
                            new byte[0],
                            Duration.ofSeconds(60),
                            1024,
                            List.of()),
                        "");
              } catch (RuntimeException e) {
                // The agent goes away with the command.
              }
            });
    t.setDaemon(true);
    t.start();
    while (dev.kavach.testing.Leftovers.processesMatching(marker).isEmpty()
        && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(dev.kavach.testing.Leftovers.processesMatching(marker)).isNotEmpty();
    // Kill the parent: the agent is re-parented, notices, and ends like on SIGTERM.
    parent
        .descendants()
        .filter(h -> h.info().command().orElse("").endsWith("sleep"))
        .forEach(ProcessHandle::destroy);
    parent.destroyForcibly().waitFor();
    assertThat(dev.kavach.testing.Leftovers.processesMatchingAfter(marker, 5000)).isEmpty();
    assertThat(dev.kavach.testing.Leftovers.processesMatchingAfter(agent.toString(), 5000))
        .isEmpty();
  }

  @Test
  void outsideAGuestTheAgentWantsAnExplicitMode(@TempDir Path dir) {
    Path agent = AgentBinary.extract(dir);
    Exec.Result r =
        Exec.run(Exec.command(List.of(agent.toString())).timeout(Duration.ofSeconds(10)).build());
    assertThat(r.exitValue()).isEqualTo(2);
    assertThat(r.stderrText()).contains("outside a guest, give --unix PATH or --vsock PORT");
  }
}
