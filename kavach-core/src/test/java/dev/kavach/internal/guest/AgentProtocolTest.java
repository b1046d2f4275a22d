package dev.kavach.internal.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.KavachException;
import dev.kavach.backend.ExecSpec;
import dev.kavach.policy.SandboxPolicy;
import dev.kavach.testing.Leftovers;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The agent and the host side of the protocol, attacked from both ends. */
@Timeout(60)
class AgentProtocolTest {
  private static AgentHarness agent;

  @BeforeAll
  static void startAgent() throws IOException {
    agent = AgentHarness.start("kv-prototest" + ThreadLocalRandom.current().nextInt(1_000_000));
  }

  @AfterAll
  static void stopAgent() throws IOException {
    agent.close();
  }

  private static ExecSpec spec(List<String> argv, byte[] stdin, Duration timeout, int limit) {
    return new ExecSpec(
        "t", argv, Map.of("PATH", "/usr/bin:/bin"), stdin, timeout, limit, List.of());
  }

  private static ExecSpec spec(String... argv) {
    return spec(List.of(argv), new byte[0], Duration.ofSeconds(20), 1 << 20);
  }

  @Test
  void pingAnswersWithTheVersion() throws IOException {
    assertThat(agent.client().ping()).isEqualTo("kavach-agent 1");
  }

  @Test
  void requestEncodingRefusesNulAndBadEnvNames() {
    assertThatThrownBy(
            () ->
                AgentProtocol.encodeRequest(
                    List.of("echo", "a\0b"),
                    Map.of(),
                    "",
                    Duration.ofSeconds(1),
                    10,
                    false,
                    new byte[0]))
        .hasMessageContaining("argv[1] contains a NUL byte");
    assertThatThrownBy(
            () ->
                AgentProtocol.encodeRequest(
                    List.of("env"),
                    Map.of("A=B", "x"),
                    "",
                    Duration.ofSeconds(1),
                    10,
                    false,
                    new byte[0]))
        .hasMessageContaining("without '='");
    assertThatThrownBy(
            () ->
                AgentProtocol.encodeRequest(
                    List.of("echo", "x".repeat(AgentProtocol.MAX_REQUEST)),
                    Map.of(),
                    "",
                    Duration.ofSeconds(1),
                    10,
                    false,
                    new byte[0]))
        .hasMessageContaining("passes the agent's limit");
  }

  @Test
  void hostileArgvAndEnvArriveByteForByte() {
    String hostile = "a'b\"c\\d\n]]{{ $(id) `id` ; \u00e9\u2603 \t";
    AgentClient.Result r =
        agent
            .client()
            .run(
                new ExecSpec(
                    "t",
                    List.of("/bin/sh", "-c", "printf '%s|%s' \"$1\" \"$HOSTILE\"", "sh", hostile),
                    Map.of("PATH", "/usr/bin:/bin", "HOSTILE", hostile),
                    new byte[0],
                    Duration.ofSeconds(10),
                    1 << 20,
                    List.of()),
                "");
    assertThat(new String(r.stdout(), StandardCharsets.UTF_8)).isEqualTo(hostile + "|" + hostile);
  }

  @Test
  void agentRefusesARequestWithNulInsideAString() throws IOException {
    // argv[0] = "a\0b": the host encoder refuses this, so write the bytes by hand.
    ByteBuffer p = ByteBuffer.allocate(64);
    p.putInt(1).putInt(1000).putInt(100).putInt(0).putInt(0); // version, timeout, limit, flags, cwd
    p.putInt(1).putInt(3).put(new byte[] {'a', 0, 'b'}).putInt(0);
    p.flip();
    byte[] payload = new byte[p.remaining()];
    p.get(payload);
    try (SocketChannel ch = agent.connect()) {
      AgentProtocol.write(ch, AgentProtocol.REQUEST, payload, 0, payload.length);
      AgentProtocol.Frame f = AgentProtocol.read(ch, 4096);
      assertThat(f).isNotNull();
      assertThat((char) f.type()).isEqualTo('F');
      AgentProtocol.Failure failure = AgentProtocol.Failure.parse(f.payload());
      assertThat(failure.errnoName()).isEqualTo("EINVAL");
      assertThat(failure.step()).startsWith("request: malformed");
    }
  }

  @Test
  void agentRefusesAnOversizedFirstFrameWithoutReadingIt() throws IOException {
    try (SocketChannel ch = agent.connect()) {
      ByteBuffer header = ByteBuffer.allocate(5).put((byte) 'Q').putInt(64 << 20).flip();
      ch.write(header);
      AgentProtocol.Frame f = AgentProtocol.read(ch, 4096);
      assertThat(f).isNotNull();
      AgentProtocol.Failure failure = AgentProtocol.Failure.parse(f.payload());
      assertThat(failure.errnoName()).isEqualTo("EPROTO");
    }
  }

  @Test
  void theAgentInstallsTheCompiledSeccompFilterOnTheCommandOnly() {
    byte[] bpf = GuestSeccomp.compile(SandboxPolicy.basic()).orElseThrow().bytes();
    AgentClient.Result r =
        agent
            .client()
            .run(
                spec(
                    "/bin/sh",
                    "-c",
                    "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status;"
                        + " unshare --user true || echo refused $?"),
                "",
                bpf);
    String out = new String(r.stdout(), StandardCharsets.UTF_8);
    assertThat(out).contains("NoNewPrivs:\t1").contains("Seccomp:\t2").contains("refused 1");
    assertThat(new String(r.stderr(), StandardCharsets.UTF_8))
        .contains("unshare failed: Operation not permitted");
    // The agent itself stays unfiltered: the next command without a filter can unshare.
    AgentClient.Result plain =
        agent.client().run(spec("/bin/sh", "-c", "grep '^Seccomp:' /proc/self/status"), "");
    assertThat(new String(plain.stdout(), StandardCharsets.UTF_8)).isEqualTo("Seccomp:\t0\n");
  }

  @Test
  void aFilterTheKernelRefusesMeansTheCommandNeverRuns(@TempDir Path dir) {
    Path marker = dir.resolve("ran");
    // One instruction with an invalid opcode: seccomp(2) answers EINVAL.
    byte[] bogus = {(byte) 0xff, (byte) 0xff, 0, 0, 0, 0, 0, 0};
    assertThatThrownBy(
            () -> agent.client().run(spec("/usr/bin/touch", marker.toString()), "", bogus))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("seccomp failed with EINVAL");
    assertThat(marker).doesNotExist();
    assertThatThrownBy(
            () ->
                AgentProtocol.encodeRequest(
                    List.of("true"), Map.of(), "", Duration.ofSeconds(1), 10, false, new byte[7]))
        .hasMessageContaining("not 1 to 4096 instructions");
  }

  @Test
  void aMissingProgramIsALaunchFailureNotAnExitCode() {
    assertThatThrownBy(() -> agent.client().run(spec("no-such-program-kavach"), ""))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("execve failed with ENOENT")
        .extracting(e -> ((KavachException) e).reason())
        .isEqualTo(KavachException.Reason.LAUNCH_FAILED);
    assertThatThrownBy(() -> agent.client().run(spec("true"), "/no/such/dir"))
        .hasMessageContaining("chdir failed with ENOENT");
  }

  @Test
  void programIsLookedUpOnTheCommandsPathNotTheAgents(@TempDir Path dir) throws IOException {
    Path tool = dir.resolve("kavach-only-here");
    java.nio.file.Files.writeString(tool, "#!/bin/sh\necho found\n");
    tool.toFile().setExecutable(true);
    AgentClient.Result r =
        agent
            .client()
            .run(
                new ExecSpec(
                    "t",
                    List.of("kavach-only-here"),
                    Map.of("PATH", dir + ":/usr/bin:/bin"),
                    new byte[0],
                    Duration.ofSeconds(10),
                    1024,
                    List.of()),
                "");
    assertThat(new String(r.stdout(), StandardCharsets.UTF_8)).isEqualTo("found\n");
  }

  @Test
  void largeStdinArrivesIntactAndUnreadStdinDoesNotBlock() {
    byte[] input = new byte[300_000];
    new Random(42).nextBytes(input);
    AgentClient.Result r =
        agent.client().run(spec(List.of("cat"), input, Duration.ofSeconds(20), 1 << 20), "");
    assertThat(r.stdout()).isEqualTo(input);
    AgentClient.Result ignored =
        agent.client().run(spec(List.of("true"), input, Duration.ofSeconds(20), 1 << 20), "");
    assertThat(ignored.exitCode()).isZero();
  }

  @Test
  void disconnectingKillsTheCommandTree() throws Exception {
    String marker = "3600." + ThreadLocalRandom.current().nextInt(100_000_000, 999_999_999);
    byte[] req =
        AgentProtocol.encodeRequest(
            List.of("/bin/sh", "-c", "sleep " + marker + " & setsid sleep " + marker + "; wait"),
            Map.of("PATH", "/usr/bin:/bin"),
            "",
            Duration.ofSeconds(60),
            1024,
            false,
            new byte[0]);
    SocketChannel ch = agent.connect();
    AgentProtocol.write(ch, AgentProtocol.REQUEST, req, 0, req.length);
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    // Wait for both sleeps themselves (a forked shell briefly carries the marker too).
    while (sleeps(marker) < 2 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(sleeps(marker)).isEqualTo(2);
    ch.close();
    // Both sleeps die, including the one that left the process group with setsid.
    assertThat(Leftovers.processesMatchingAfter(marker, 5000)).isEmpty();
  }

  private static long sleeps(String marker) {
    return Leftovers.processesMatching(marker).stream()
        .filter(p -> p.contains(": sleep " + marker))
        .count();
  }

  @Test
  void agentShutdownKillsRunningCommands() throws Exception {
    String marker = "3600." + ThreadLocalRandom.current().nextInt(100_000_000, 999_999_999);
    AgentHarness own =
        AgentHarness.start("kv-shutdown" + ThreadLocalRandom.current().nextInt(1_000_000));
    Thread t =
        new Thread(
            () -> {
              try {
                own.client().run(spec("/bin/sh", "-c", "trap '' TERM; sleep " + marker), "");
              } catch (RuntimeException e) {
                // The connection goes away with the agent.
              }
            });
    t.start();
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (Leftovers.processesMatching(marker).isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(Leftovers.processesMatching(marker)).isNotEmpty();
    own.close();
    assertThat(Leftovers.processesMatchingAfter(marker, 5000)).isEmpty();
    t.join(10_000);
  }

  @Test
  void handshakeToAPortNobodyListensOnFails() {
    assertThatThrownBy(() -> VsockChannel.connect(agent.uds(), 4242))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("port 4242 was answered \"(closed)\"");
  }

  /** A fake guest that answers every connection with the bytes {@code script} writes. */
  private static AgentClient hostileGuest(
      Path dir, java.util.function.Consumer<SocketChannel> script) throws IOException {
    Path sock = dir.resolve("hostile.sock");
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(sock));
    Thread t =
        new Thread(
            () -> {
              try (server;
                  SocketChannel c = server.accept()) {
                script.accept(c);
              } catch (IOException e) {
                // Test over.
              }
            });
    t.setDaemon(true);
    t.start();
    return new AgentClient(
        () -> {
          SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
          c.connect(UnixDomainSocketAddress.of(sock));
          return c;
        });
  }

  @Test
  void aGuestCannotMakeTheHostAllocateAHugeFrame(@TempDir Path dir) throws IOException {
    AgentClient client =
        hostileGuest(
            dir,
            c -> {
              try {
                c.write(ByteBuffer.allocate(5).put((byte) 'O').putInt(Integer.MAX_VALUE).flip());
                Thread.sleep(2000);
              } catch (IOException | InterruptedException e) {
                // Done.
              }
            });
    assertThatThrownBy(() -> client.run(spec("true"), ""))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("frame 'O' of 2147483647 bytes");
  }

  @Test
  void aGuestThatIgnoresTheOutputLimitIsCutOffByTheHost(@TempDir Path dir) throws IOException {
    AgentClient client =
        hostileGuest(
            dir,
            c -> {
              try {
                byte[] chunk = new byte[AgentProtocol.MAX_CHUNK];
                for (int i = 0; i < 64; i++) { // 4 MiB, while the request allowed 1 KiB
                  AgentProtocol.write(c, AgentProtocol.STDOUT, chunk, 0, chunk.length);
                }
                byte[] exit = new byte[12]; // code 0, not truncated: a lie
                AgentProtocol.write(c, AgentProtocol.EXIT, exit, 0, exit.length);
              } catch (IOException e) {
                // Done.
              }
            });
    AgentClient.Result r =
        client.run(spec(List.of("true"), new byte[0], Duration.ofSeconds(10), 1024), "");
    assertThat(r.stdout()).hasSize(1024);
    assertThat(r.stdoutTruncated()).isTrue();
  }

  @Test
  void aGuestThatHangsIsAbandonedAfterTheTimeout(@TempDir Path dir) throws IOException {
    AgentClient client =
        hostileGuest(
            dir,
            c -> {
              try {
                Thread.sleep(30_000);
              } catch (InterruptedException e) {
                // Done.
              }
            });
    long start = System.nanoTime();
    AgentClient.Result r =
        client.run(spec(List.of("true"), new byte[0], Duration.ofMillis(100), 1024), "");
    assertThat(r.timedOut()).isTrue();
    assertThat(r.signal()).hasValue(9);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(25));
  }
}
