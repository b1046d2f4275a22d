package dev.kavach.backend.process;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kavach.ExecRequest;
import dev.kavach.ExecResult;
import dev.kavach.KavachException;
import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Backends;
import dev.kavach.internal.fs.Trees;
import dev.kavach.policy.FilesystemRule;
import dev.kavach.policy.NetworkPolicy;
import dev.kavach.policy.SandboxPolicy;
import dev.kavach.testing.Leftovers;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Escape attempts: real programs inside the sandbox try to break a claim, and each test asserts the
 * exact failure (errno, signal, absence). Attempts go through {@code adversary.py} (python3 ctypes)
 * so the errno is the kernel's, not a shell's paraphrase. Each attempt runs under every preset it
 * concerns; after each test nothing of the sandbox may be left on the host.
 */
@Timeout(120)
class ProcessAdversarialTest {
  private static ProcessBackendProvider provider;
  private static Path planted;
  private static Path plantedHomeDir;
  private static final String SECRET = "kavach-planted-" + ThreadLocalRandom.current().nextInt();

  private final List<Sandbox> sandboxes = new ArrayList<>();
  private final List<String> markers = new ArrayList<>();

  @BeforeAll
  static void setUp() throws IOException {
    provider = new ProcessBackendProvider();
    assumeTrue(provider.probe().available(), provider.probe().reason());
    if (provider.hostSupport().euid() == 0) {
      planted = Path.of("/root", SECRET);
      Files.writeString(planted, SECRET);
      plantedHomeDir = Files.createDirectories(Path.of("/home", SECRET));
      Files.writeString(plantedHomeDir.resolve("secret"), SECRET);
    }
  }

  @AfterAll
  static void tearDown() throws IOException {
    if (planted != null) {
      Files.deleteIfExists(planted);
      Trees.deleteRecursively(plantedHomeDir);
    }
  }

  @AfterEach
  void nothingLeftBehind() throws IOException {
    List<String> ids = new ArrayList<>();
    List<Path> workspaces = new ArrayList<>();
    List<Path> cgroups = new ArrayList<>();
    for (Sandbox s : sandboxes) {
      ids.add(s.id());
      s.workspace().ifPresent(workspaces::add);
      cgroups.addAll(ProcessContractTest.cgroupDirectories(s.id()));
      s.close();
    }
    for (Path cg : cgroups) {
      assertThat(cg).as("cgroup left behind").doesNotExist();
    }
    for (String id : ids) {
      assertThat(Leftovers.processesMatchingAfter(id, 5000)).as("processes of " + id).isEmpty();
      try (Stream<Path> list = Files.list(RunDir.BASE)) {
        assertThat(list.map(p -> p.getFileName().toString()))
            .as("run directories of " + id)
            .noneMatch(n -> n.startsWith(RunDir.PREFIX + id));
      }
    }
    for (String m : markers) {
      assertThat(Leftovers.processesMatchingAfter(m, 5000)).as("marker " + m).isEmpty();
    }
    String mounts = Files.readString(Path.of("/proc/self/mountinfo"));
    for (Path ws : workspaces) {
      assertThat(ws).as("workspace removed").doesNotExist();
      assertThat(mounts).as("host mounts").doesNotContain(ws.toString());
    }
  }

  // --- helpers ------------------------------------------------------------------------------

  private Sandbox sandbox(SandboxPolicy policy) {
    return sandbox(SandboxConfig.builder().backend("process").policy(policy));
  }

  private Sandbox sandbox(SandboxConfig.Builder config) {
    Sandbox s;
    try {
      s = Sandbox.create(config.build(), Backends.of(List.of(provider)));
    } catch (KavachException e) {
      assumeTrue(false, "this build cannot enforce the policy yet: " + e.getMessage());
      throw e;
    }
    sandboxes.add(s);
    s.start();
    try (InputStream in = getClass().getResourceAsStream("adversary.py")) {
      Files.write(s.workspace().orElseThrow().resolve("adversary.py"), in.readAllBytes());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return s;
  }

  private Sandbox preset(String name) {
    return sandbox(SandboxPolicy.preset(name));
  }

  /** Runs one attempt and returns its one-line verdict ("OK ..." or "ERR <ERRNO>"). */
  private static String attempt(Sandbox s, String... args) {
    List<String> argv = new ArrayList<>(List.of("python3", "/workspace/adversary.py"));
    argv.addAll(List.of(args));
    ExecResult r = s.exec(argv);
    assertThat(r.stderrText()).as("stderr of %s", List.of(args)).isEmpty();
    return r.stdoutText().strip();
  }

  private static ExecResult sh(Sandbox s, String script) {
    return s.exec(List.of("/bin/sh", "-c", script));
  }

  private String marker() {
    String m = "3600." + ThreadLocalRandom.current().nextInt(100_000_000, 999_999_999);
    markers.add(m);
    return m;
  }

  private static boolean seccomp(String preset) {
    return !preset.equals("minimal");
  }

  // --- the filesystem -------------------------------------------------------------------------

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void writesOutsideTheWorkspaceFailReadOnly(String preset) {
    Sandbox s = preset(preset);
    assertThat(attempt(s, "write", "/usr/kavach-x")).isEqualTo("ERR EROFS");
    assertThat(attempt(s, "write", "/etc/kavach-x")).isEqualTo("ERR EROFS");
    assertThat(attempt(s, "write", "/kavach-x")).isEqualTo("ERR EROFS");
    assertThat(attempt(s, "write", "/workspace/ok")).isEqualTo("OK wrote /workspace/ok");
    assertThat(Path.of("/usr/kavach-x")).doesNotExist();
    assertThat(Path.of("/etc/kavach-x")).doesNotExist();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void filesPlantedInRootAndHomeAreNotThere(String preset) {
    assumeTrue(planted != null, "planting in /root needs root");
    Sandbox s = preset(preset);
    assertThat(attempt(s, "read", planted.toString())).isEqualTo("ERR ENOENT");
    assertThat(attempt(s, "read", plantedHomeDir.resolve("secret").toString()))
        .isEqualTo("ERR ENOENT");
    assertThat(sh(s, "ls -A /root /home /run /mnt /srv /var 2>&1; echo rc=$?").stdoutText())
        .contains("rc=2")
        .doesNotContain(SECRET);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void aSymlinkFromTheWorkspaceToAHostSecretLeadsNowhere(String preset) throws IOException {
    assumeTrue(planted != null, "planting in /root needs root");
    Sandbox s = preset(preset);
    assertThat(sh(s, "ln -s " + planted + " /workspace/link && echo made").stdoutText())
        .isEqualTo("made\n");
    assertThat(attempt(s, "read", "/workspace/link")).isEqualTo("ERR ENOENT");
    // The host side never follows it either: destroy removes the link, not the target.
    s.destroy();
    assertThat(planted).hasContent(SECRET);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void shadowIsUnreadableAndHostPseudoFilesystemsAreAbsent(String preset) {
    Sandbox s = preset(preset);
    assertThat(attempt(s, "read", "/etc/shadow")).isEqualTo("ERR EACCES");
    assertThat(attempt(s, "read", "/sys/kernel/notes")).isEqualTo("ERR ENOENT");
    assertThat(attempt(s, "read", "/dev/shm")).isEqualTo("ERR ENOENT");
    assertThat(attempt(s, "read", "/proc/1/environ")).isEqualTo("ERR EACCES");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void aSetuidRootBinaryGainsNothing(String preset) throws Exception {
    assumeTrue(planted != null, "planting a setuid-root binary needs root");
    Path dir = Trees.createPrivateTempDirectory("kavach-suid-");
    try {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
      Path id = dir.resolve("id");
      Files.copy(Path.of("/usr/bin/id"), id);
      Files.setAttribute(id, "unix:mode", 04755); // setuid root
      Sandbox s =
          sandbox(
              SandboxPolicy.preset(preset).toBuilder()
                  .filesystemRule(FilesystemRule.readOnly(dir))
                  .build());
      ExecResult r = s.exec(List.of(id.toString(), "-u"));
      assertThat(r.stdoutText().strip())
          .isEqualTo(Integer.toUnsignedString(s.lastEnforcement().orElseThrow().uid()));
      assertThat(r.stdoutText().strip()).isNotEqualTo("0");
      assertThat(sh(s, "su -c true root </dev/null; echo rc=$?").stdoutText())
          .isNotEqualTo("rc=0\n");
    } finally {
      Trees.deleteRecursively(dir);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void deviceNodesCannotBeCreated(String preset) {
    Sandbox s = preset(preset);
    assertThat(attempt(s, "mknod", "/tmp/mem")).isEqualTo("ERR EPERM");
    assertThat(attempt(s, "mknod", "/workspace/mem")).isEqualTo("ERR EPERM");
    assertThat(sh(s, "ls /dev | tr '\\n' ' '").stdoutText())
        .isEqualTo("fd full null random stderr stdin stdout tty urandom zero ");
  }

  // --- mounts, namespaces, privileges ----------------------------------------------------------

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void mountingAndUnmountingIsRefused(String preset) {
    Sandbox s = preset(preset);
    assertThat(attempt(s, "mount", "/tmp")).isEqualTo("ERR EPERM");
    assertThat(attempt(s, "remount-root")).isEqualTo("ERR EPERM");
    assertThat(attempt(s, "umount", "/workspace")).isEqualTo("ERR EPERM");
    assertThat(attempt(s, "chroot", "/tmp")).isEqualTo("ERR EPERM");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void newUserNamespacesAreRefused(String preset) {
    Sandbox s = preset(preset);
    // Without seccomp the nested-namespace limit (0) refuses it; with seccomp the filter does.
    assertThat(attempt(s, "unshare-user")).isEqualTo(seccomp(preset) ? "ERR EPERM" : "ERR ENOSPC");
    assertThat(attempt(s, "unshare-mount")).isEqualTo("ERR EPERM");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void privilegesCannotBeRegained(String preset) {
    Sandbox s = preset(preset);
    assertThat(attempt(s, "setuid0")).isEqualTo("ERR EINVAL"); // uid 0 is not even mapped
    assertThat(attempt(s, "cap-raise")).isEqualTo("ERR EPERM");
    assertThat(attempt(s, "sethostname", "evil")).isEqualTo("ERR EPERM");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void procSelfStatusShowsNoCapabilitiesNoNewPrivsAndTheFilter(String preset) {
    Sandbox s = preset(preset);
    String status =
        sh(s, "grep -E '^(Cap|NoNewPrivs|Seccomp:|Uid)' /proc/self/status").stdoutText();
    assertThat(status)
        .contains(
            "CapInh:\t0000000000000000",
            "CapPrm:\t0000000000000000",
            "CapEff:\t0000000000000000",
            "CapBnd:\t0000000000000000",
            "CapAmb:\t0000000000000000",
            "NoNewPrivs:\t1",
            "Seccomp:\t" + (seccomp(preset) ? "2" : "0"));
    assertThat(status).doesNotContain("Uid:\t0\t");
    // A root JVM's supplementary groups (gid 0) are dropped before the namespaces exist.
    String groups = sh(s, "grep '^Groups:' /proc/self/status").stdoutText();
    assertThat(groups.strip()).isEqualTo("Groups:");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void noDescriptorOfTheLauncherOrTheJvmLeaksIn(String preset) {
    Sandbox s = preset(preset);
    // 0, 1, 2 and the directory ls itself is reading.
    assertThat(sh(s, "ls /proc/self/fd | tr '\\n' ' '").stdoutText()).isEqualTo("0 1 2 3 ");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void ptraceOfInitIsRefused(String preset) {
    Sandbox s = preset(preset);
    assertThat(attempt(s, "ptrace", "1")).isEqualTo("ERR EPERM");
  }

  // --- processes and signals --------------------------------------------------------------------

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void onlySandboxProcessesAreVisible(String preset) {
    Sandbox s = preset(preset);
    String pids = sh(s, "ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' '").stdoutText().strip();
    for (String pid : pids.split(" ")) {
      assertThat(Integer.parseInt(pid)).as("pid visible in the sandbox").isLessThan(20);
    }
    assertThat(pids).startsWith("1 ");
    long jvm = ProcessHandle.current().pid();
    assertThat(attempt(s, "kill", Long.toString(jvm), "0")).isEqualTo("ERR ESRCH");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void initsCommandLineRevealsNoHostPaths(String preset) {
    Sandbox s = preset(preset);
    String cmdline = sh(s, "tr '\\0' ' ' < /proc/1/cmdline").stdoutText();
    // The launcher's argv names the host workspace, run directory, cgroups and the JVM's pid.
    assertThat(cmdline).isEqualTo("kavach-init ");
    assertThat(s.exec(List.of("cat", "/proc/1/cmdline")).stdoutText())
        .doesNotContain(s.workspace().orElseThrow().toString(), "/dev/shm", "/sys/fs/cgroup");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void aHostProcessCannotBeSignalled(String preset) throws Exception {
    String m = marker();
    Process host = new ProcessBuilder("sleep", m).start();
    try {
      Sandbox s = preset(preset);
      assertThat(attempt(s, "kill", Long.toString(host.pid()), "9")).isEqualTo("ERR ESRCH");
      assertThat(attempt(s, "process-vm-readv", Long.toString(host.pid())))
          .isIn(seccomp(preset) ? List.of("ERR EPERM", "ERR ESRCH") : List.of("ERR ESRCH"));
      assertThat(host.isAlive()).isTrue();
    } finally {
      host.destroyForcibly().waitFor();
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void keystrokesCannotBeInjected(String preset) {
    Sandbox s = preset(preset);
    // No controlling terminal (own session) and standard input is not a tty.
    assertThat(attempt(s, "tiocsti", "/dev/tty")).isEqualTo("ERR ENXIO");
    assertThat(attempt(s, "tiocsti", "0")).isIn("ERR ENOTTY", "ERR EPERM");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void hostEnvironmentIsNotVisible(String preset) {
    assertThat(System.getenv("KAVACH_TEST_HOST_MARKER")).isNotNull();
    Sandbox s = preset(preset);
    assertThat(sh(s, "env; cat /proc/1/environ 2>/dev/null").stdoutText())
        .doesNotContain("KAVACH_TEST_HOST_MARKER");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void timeoutKillsADoubleForkedGrandchildThatIgnoresTerm(String preset) {
    Sandbox s = preset(preset);
    String m = marker();
    ExecResult r =
        s.exec(
            ExecRequest.builder(
                    "/bin/sh",
                    "-c",
                    "trap '' TERM; (trap '' TERM; (trap '' TERM; setsid sleep "
                        + m
                        + " &) &); echo forked; sleep "
                        + m)
                // Long enough for "forked" on a loaded machine; the sleeps last an hour.
                .timeout(Duration.ofSeconds(5))
                .build());
    assertThat(r.timedOut()).isTrue();
    assertThat(r.stdoutText()).isEqualTo("forked\n");
    assertThat(Leftovers.processesMatchingAfter(m, 5000)).isEmpty();
  }

  @Test
  void noProcessOfTheSandboxHoldsHostRootWhileTheCommandRuns() throws Exception {
    assumeTrue(provider.hostSupport().euid() == 0, "only meaningful on a root host");
    Sandbox s = preset("strict");
    String m = marker();
    Thread t = new Thread(() -> sh(s, "sleep " + m));
    t.start();
    List<String> procs = List.of();
    for (int i = 0; i < 500; i++) {
      procs = Leftovers.processesMatching(m);
      if (procs.stream().anyMatch(p -> p.contains(": sleep " + m))) {
        break;
      }
      Thread.sleep(10);
    }
    // The command (sh, sleep), and the launcher's supervisor and init, whose argv names the run
    // directory (so the sandbox's id): every one has the sandbox's uid, none is root.
    List<String> all = new ArrayList<>(procs);
    all.addAll(Leftovers.processesMatching(s.id()));
    assertThat(all).hasSizeGreaterThanOrEqualTo(4);
    for (String p : all) {
      String pid = p.substring(0, p.indexOf(':'));
      String uids =
          Files.readString(Path.of("/proc", pid, "status"))
              .lines()
              .filter(l -> l.startsWith("Uid:"))
              .findFirst()
              .orElseThrow();
      assertThat(uids.split("\\s+")).as(p).doesNotContain("0");
    }
    s.stop();
    t.join();
  }

  @Test
  void killingTheJvmThatOwnsTheSandboxKillsEverythingInIt() throws Exception {
    String m = marker();
    String java = ProcessHandle.current().info().command().orElse("java");
    Process child =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                SandboxHolder.class.getName(),
                m)
            .redirectErrorStream(true)
            .start();
    try {
      String[] hello;
      try (BufferedReader out =
          new BufferedReader(new InputStreamReader(child.getInputStream(), UTF_8))) {
        String line = out.readLine();
        while (line != null && !line.startsWith("sandbox=")) {
          line = out.readLine();
        }
        assertThat(line).as("the child JVM's sandbox").isNotNull();
        hello = line.split(" ");
      }
      String id = hello[0].substring("sandbox=".length());
      Path childWorkspace = Path.of(hello[1].substring("workspace=".length()));
      boolean running = false;
      for (int i = 0; i < 1500 && !running; i++) {
        running = Leftovers.processesMatching(m).stream().anyMatch(p -> p.contains(": sleep " + m));
        Thread.sleep(20);
      }
      assertThat(running).as("the sandboxed sleep started").isTrue();
      new ProcessBuilder("kill", "-KILL", Long.toString(child.pid())).start().waitFor();
      assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(Leftovers.processesMatchingAfter(m, 5000)).as("survivors").isEmpty();
      assertThat(Leftovers.processesMatchingAfter(id, 5000)).as("launchers").isEmpty();
      // The launchers remove their run directories once their JVM is gone.
      try (Stream<Path> list = Files.list(RunDir.BASE)) {
        assertThat(list.map(p -> p.getFileName().toString()))
            .noneMatch(n -> n.startsWith(RunDir.PREFIX + id));
      }
      // The workspace belonged to the dead JVM's Sandbox, which can no longer remove it.
      Trees.deleteRecursively(childWorkspace);
    } finally {
      child.destroyForcibly();
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void hundredMegabytesOfOutputAreCappedAndFlagged(String preset) {
    Sandbox s = preset(preset);
    Runtime rt = Runtime.getRuntime();
    long before = rt.totalMemory() - rt.freeMemory();
    ExecResult r = sh(s, "head -c 104857600 /dev/zero; echo done >&2");
    long after = rt.totalMemory() - rt.freeMemory();
    assertThat(r.exitCode()).isZero();
    assertThat(r.signal()).isEmpty();
    assertThat(r.stdout()).hasSize(SandboxConfig.DEFAULT_OUTPUT_LIMIT);
    assertThat(r.stdoutTruncated()).isTrue();
    assertThat(r.stderrText()).isEqualTo("done\n");
    // The other 99 MB were drained and dropped, never buffered.
    assertThat(after - before).isLessThan(64L << 20);
  }

  // --- network
  // ------------------------------------------------------------------------------------

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void theSandboxesOwnLoopbackStillWorks(String preset) {
    // The isolation is the namespace: a program may still talk to itself over 127.0.0.1.
    ExecResult r =
        preset(preset)
            .exec(
                List.of(
                    "python3",
                    "-c",
                    "import socket\n"
                        + "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)\n"
                        + "c = socket.create_connection(s.getsockname()); a, _ = s.accept()\n"
                        + "c.sendall(b'ping'); print(a.recv(4).decode())"));
    assertThat(r.stderrText()).isEmpty();
    assertThat(r.stdoutText()).isEqualTo("ping\n");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "basic", "strict"})
  void theHostLoopbackIsUnreachableWithTheNetworkDisabled(String preset) throws Exception {
    AtomicInteger accepted = new AtomicInteger();
    try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread t =
          new Thread(
              () -> {
                try {
                  Socket client = server.accept();
                  accepted.incrementAndGet();
                  client.close();
                } catch (IOException e) {
                  // closed by the test
                }
              });
      t.setDaemon(true);
      t.start();
      Sandbox s = preset(preset);
      // The sandbox's 127.0.0.1 is its own loopback, where nothing listens: the host's listener
      // is unreachable under every preset.
      assertThat(attempt(s, "connect", "127.0.0.1", Integer.toString(server.getLocalPort())))
          .isEqualTo("ERR ECONNREFUSED");
      assertThat(sh(s, "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '").stdoutText())
          .isEqualTo("lo\n");
    }
    assertThat(accepted).hasValue(0);
  }

  @Test
  void tcpPortsOutsideTheAllowedOnesAreRefusedByLandlock() throws Exception {
    assumeTrue(provider.hostSupport().landlockPorts(), "Landlock ABI >= 4 needed");
    try (ServerSocket allowed = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        ServerSocket denied = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Sandbox s =
          sandbox(
              SandboxPolicy.minimal().toBuilder()
                  .network(NetworkPolicy.ports(allowed.getLocalPort()))
                  .build());
      assertThat(attempt(s, "connect", "127.0.0.1", Integer.toString(denied.getLocalPort())))
          .isEqualTo("ERR EACCES");
      assertThat(attempt(s, "connect", "127.0.0.1", Integer.toString(allowed.getLocalPort())))
          .isEqualTo("OK connected");
    }
  }

  @Test
  void abstractUnixSocketsOfTheHostAreScopedAway() throws Exception {
    assumeTrue(provider.hostSupport().landlockAbi() >= 6, "Landlock ABI >= 6 needed");
    String name = "kavach-test-" + ThreadLocalRandom.current().nextInt(1 << 30);
    String m = marker();
    Process listener =
        new ProcessBuilder(
                "python3",
                "-c",
                "import socket,time;s=socket.socket(socket.AF_UNIX);s.bind('\\0"
                    + name
                    + "');s.listen();print('up',flush=True);time.sleep("
                    + m
                    + ")")
            .start();
    try {
      assertThat(
              new String(
                  listener.getInputStream().readNBytes(3), java.nio.charset.StandardCharsets.UTF_8))
          .isEqualTo("up\n");
      // With the host's network shared, only Landlock's scope stands between them.
      Sandbox open =
          sandbox(
              SandboxPolicy.minimal().toBuilder().network(NetworkPolicy.unrestricted()).build());
      assertThat(attempt(open, "connect-abstract", name)).isEqualTo("ERR EPERM");
      // With a network namespace the name does not even exist.
      assertThat(attempt(preset("minimal"), "connect-abstract", name))
          .isEqualTo("ERR ECONNREFUSED");
    } finally {
      listener.destroyForcibly().waitFor();
    }
  }

  // --- resources (cgroups) ---

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "strict"})
  void aWritePastTheFileSizeLimitIsStoppedThere(String preset) {
    Sandbox s = sandbox(SandboxPolicy.preset(preset).toBuilder().maxFileSizeMb(1).build());
    ExecResult r = sh(s, "head -c 3000000 /dev/zero > big; echo rc=$?; wc -c < big");
    // SIGXFSZ (25) ends the writer; nothing past the limit reaches the disk.
    assertThat(r.stdoutText()).isEqualTo("rc=153\n1048576\n");
    assertThat(r.stderrText()).contains("File size limit exceeded");
    assertThat(s.workspace().orElseThrow().resolve("big")).hasSize(1 << 20);
    assertThat(r.enforcement().fileSizeLimitBytes()).isEqualTo(1 << 20);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "strict"})
  void aForkBombIsBoundedByThePidsLimit(String preset) {
    Sandbox s =
        sandbox(SandboxPolicy.preset(preset).toBuilder().noResourceLimits().maxPids(32).build());
    String verdict = attempt(s, "fork-bomb", "500");
    assertThat(verdict).startsWith("ERR EAGAIN after ");
    int forked = Integer.parseInt(verdict.substring("ERR EAGAIN after ".length()));
    // The launcher's supervisor, init and python itself count against the limit too.
    assertThat(forked).isLessThan(32);
    assertThat(s.lastEnforcement().orElseThrow().pidsLimit()).isEqualTo(32);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "strict"})
  void aMemoryHogIsKilledAndReportedAsOom(String preset) {
    Sandbox s =
        sandbox(
            SandboxPolicy.preset(preset).toBuilder().noResourceLimits().memoryLimitMb(64).build());
    ExecResult r = s.exec(List.of("python3", "/workspace/adversary.py", "memory-hog", "400"));
    assertThat(r.signal()).hasValue(9);
    assertThat(r.exitCode()).isEqualTo(137);
    assertThat(r.oomKilled()).isTrue();
    assertThat(r.stdoutText()).doesNotContain("OK");
    assertThat(r.enforcement().memoryLimitBytes()).isEqualTo(64L << 20);
    assertThat(r.usage().orElseThrow().memoryPeakBytes()).isLessThanOrEqualTo(64L << 20);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minimal", "strict"})
  void aQuarterCoreQuotaHolds(String preset) {
    Sandbox s =
        sandbox(SandboxPolicy.preset(preset).toBuilder().noResourceLimits().cpuLimit(0.25).build());
    ExecResult r = s.exec(List.of("python3", "/workspace/adversary.py", "spin", "2"));
    assertThat(r.stdoutText()).isEqualTo("OK spun\n");
    double cores = (double) r.usage().orElseThrow().cpuTime().toNanos() / r.duration().toNanos();
    assertThat(cores).as("CPU used per second of wall time").isLessThanOrEqualTo(0.35);
    assertThat(r.usage().get().cpuTime()).as("the spin was measured").isPositive();
    assertThat(r.enforcement().cpuLimit()).isEqualTo(0.25);
  }

  // --- kernel attack surface (seccomp presets)
  // ------------------------------------------------------

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"basic", "strict"})
  void ioUringIsRefused(String preset) {
    assertThat(attempt(preset(preset), "io-uring")).isEqualTo("ERR EPERM");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"basic", "strict"})
  void x32SyscallsAreRefused(String preset) {
    ExecResult r = preset(preset).exec(List.of("python3", "/workspace/adversary.py", "x32"));
    // Either the filter kills the process (SIGSYS) or it fails; it never runs.
    assertThat(r.stdoutText()).doesNotStartWith("OK");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"basic", "strict"})
  void kernelInterfacesOutsideTheProfileAreRefused(String preset) {
    Sandbox s = preset(preset);
    assertThat(attempt(s, "bpf")).isEqualTo("ERR EPERM");
    assertThat(attempt(s, "perf")).isIn("ERR EPERM", "ERR EACCES");
    assertThat(attempt(s, "keyctl")).isEqualTo("ERR EPERM");
    assertThat(attempt(s, "userfaultfd")).isEqualTo("ERR EPERM");
    assertThat(attempt(s, "personality")).isEqualTo("ERR EPERM");
  }
}
