package dev.kavach.internal.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kavach.ExecRequest;
import dev.kavach.ExecResult;
import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Availability;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Backends;
import dev.kavach.backend.Enforcement;
import dev.kavach.credential.SecretRef;
import dev.kavach.internal.host.HostProbe;
import dev.kavach.policy.SandboxPolicy;
import dev.kavach.testing.Leftovers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Attacks on a container backend's claims, each by a real program inside the container that tries
 * to break one claim, asserting the exact failure: the network, the filesystem outside the
 * workspace, host secrets, capabilities, the process and memory limits, the timeout's tree kill
 * (against a grandchild that ignores SIGTERM and one that escapes into its own session), secrets in
 * argv, and pause observed from outside. One small subclass per runtime.
 */
@Timeout(180)
public abstract class ContainerIsolationContract {
  private final List<Sandbox> sandboxes = new ArrayList<>();
  private final List<String> markers = new ArrayList<>();

  /** The backend under test. */
  protected abstract BackendProvider provider();

  /** Checks the runtime's lists after each test; subclasses register it as an extension. */
  protected abstract ContainerLeftovers leftovers();

  /**
   * A command that tries to open a TCP connection to 1.1.1.1:80 and prints the error; the default
   * uses the host's python3 (the image-based backend overrides it).
   */
  protected List<String> connectCommand() {
    return List.of(
        "python3",
        "-c",
        "import socket\n"
            + "s = socket.socket()\n"
            + "s.settimeout(5)\n"
            + "try:\n"
            + "    s.connect(('1.1.1.1', 80)); print('connected')\n"
            + "except OSError as e:\n"
            + "    print('error', e.errno, e.strerror)\n");
  }

  /**
   * Command lines inside the sandbox containing {@code marker} (for runtimes whose processes the
   * host cannot see); the host's /proc is always searched as well.
   */
  protected List<String> insideProcesses(Sandbox sandbox, String marker) {
    return List.of();
  }

  /** The error of a connect with no route out: ENETUNREACH on Linux, EHOSTUNREACH in gVisor. */
  protected String unreachableError() {
    return "Network is unreachable";
  }

  /**
   * The error of making and reading a kernel memory device node: EPERM at mknod on Linux; gVisor
   * lets mknod make the node but opening it fails with ENXIO.
   */
  protected String mknodError() {
    return "Operation not permitted";
  }

  /** Whether reaching the pids limit ends the whole sandbox instead of failing a fork (gVisor). */
  protected boolean forkBombEndsTheSandbox() {
    return false;
  }

  /** What reading a masked secret file prints on stderr (empty when it reads as empty). */
  protected String maskedReadError() {
    return "Permission denied";
  }

  /** The process limit the report shows for a policy limit of {@code n}. */
  protected int reportedPids(int n) {
    return n;
  }

  /** Whether reaching the memory limit kills the whole sandbox, not just the command (gVisor). */
  protected boolean oomKillsTheSandbox() {
    return false;
  }

  @BeforeEach
  void checkAvailable() {
    Availability a = provider().probe();
    if (!a.available() && "true".equals(System.getenv("CI"))) {
      fail(provider().name() + " must run in CI, but: " + a.reason());
    }
    assumeTrue(a.available(), provider().name() + " unavailable: " + a.reason());
  }

  @AfterEach
  void destroyAndCheck() {
    List<Path> mustBeGone = new ArrayList<>();
    for (Sandbox s : sandboxes) {
      s.workspace().filter(ws -> s.config().workdir() == null).ifPresent(mustBeGone::add);
      mustBeGone.addAll(leftovers().track(s.id()));
      s.close();
    }
    for (Path p : mustBeGone) {
      assertThat(p).as("left behind after destroy").doesNotExist();
    }
    for (String m : markers) {
      assertThat(Leftovers.processesMatchingAfter(m, 5000)).as("marker " + m).isEmpty();
    }
    for (Sandbox s : sandboxes) {
      assertThat(Leftovers.processesMatchingAfter(s.id(), 5000)).as("sandbox " + s.id()).isEmpty();
    }
  }

  protected Sandbox started(SandboxPolicy policy) {
    return started(SandboxConfig.builder().backend(provider().name()).policy(policy).build());
  }

  protected Sandbox started(SandboxConfig config) {
    Sandbox s = Sandbox.create(config, Backends.of(List.of(provider())));
    sandboxes.add(s);
    s.start();
    return s;
  }

  protected String marker() {
    String m = "3600." + ThreadLocalRandom.current().nextInt(100_000_000, 999_999_999);
    markers.add(m);
    return m;
  }

  protected static ExecResult sh(Sandbox s, String script) {
    return s.exec(List.of("/bin/sh", "-c", script));
  }

  private List<String> processes(Sandbox s, String marker) {
    List<String> found = new ArrayList<>(Leftovers.processesMatching(marker));
    found.addAll(insideProcesses(s, marker));
    return found;
  }

  private List<String> processesAfter(Sandbox s, String marker, long millis)
      throws InterruptedException {
    long deadline = System.currentTimeMillis() + millis;
    List<String> found = processes(s, marker);
    while (!found.isEmpty() && System.currentTimeMillis() < deadline) {
      Thread.sleep(50);
      found = processes(s, marker);
    }
    return found;
  }

  @Test
  void theReportIsConfirmedFromInside() {
    SandboxPolicy policy =
        SandboxPolicy.builder()
            .readOnlyRootfs(true)
            .memoryLimitMb(256)
            .cpuLimit(0.5)
            .maxPids(48)
            .build();
    Sandbox s = started(policy);
    ExecResult r = sh(s, "id -u; grep -E '^Cap(Inh|Prm|Eff|Bnd)' /proc/self/status");
    Enforcement e = r.enforcement();
    String[] lines = r.stdoutText().split("\n");
    assertThat(Integer.parseInt(lines[0]))
        .isEqualTo(e.uid())
        .isGreaterThanOrEqualTo(ContainerPlan.SANDBOX_UID_BASE);
    for (int i = 1; i < lines.length; i++) {
      assertThat(lines[i]).endsWith("0000000000000000");
    }
    assertThat(e.backend()).isEqualTo(provider().name());
    assertThat(e.capabilitiesDropped()).isTrue();
    assertThat(e.noNewPrivs()).isTrue();
    assertThat(e.networkIsolated()).isTrue();
    assertThat(e.readOnlyRoot()).isTrue();
    assertThat(e.memoryLimitBytes()).isEqualTo(256L << 20);
    assertThat(e.cpuLimit()).isEqualTo(0.5);
    assertThat(e.pidsLimit()).isEqualTo(reportedPids(48));
    assertThat(e.namespaces()).contains("pid", "mount", "ipc", "uts");
    // Modifiers counted: network +5, read-only root +3, memory/cpu limit +2.
    assertThat(r.score().value()).isEqualTo(provider().baseScore() + 10);
  }

  @Test
  void theNetworkHasOnlyLoopbackAndConnectsFail() {
    Sandbox s = started(SandboxPolicy.minimal());
    ExecResult ifaces = sh(s, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
    assertThat(ifaces.stdoutText().trim().split("\n")).containsOnly("lo");
    ExecResult c = s.exec(connectCommand());
    assertThat(c.stdoutText() + c.stderrText()).contains(unreachableError());
    assertThat(c.stdoutText()).doesNotContain("connected");
  }

  @Test
  void nothingOutsideTheWorkspaceIsWritable() {
    Sandbox s = started(SandboxPolicy.builder().readOnlyRootfs(true).build());
    ExecResult bin = sh(s, "touch /bin/kavach-probe");
    assertThat(bin.exitCode()).isNotZero();
    assertThat(bin.stderrText()).containsAnyOf("Read-only file system", "Permission denied");
    assertThat(Path.of("/bin/kavach-probe")).doesNotExist();
    ExecResult etc = sh(s, "echo x >> /etc/hostname");
    assertThat(etc.exitCode()).isNotZero();
    assertThat(etc.stderrText()).containsAnyOf("Read-only file system", "Permission denied");
    ExecResult root = sh(s, "mkdir /kavach-probe");
    assertThat(root.exitCode()).isNotZero();
    assertThat(root.stderrText()).containsAnyOf("Read-only file system", "Permission denied");
    ExecResult sys = sh(s, "echo 1 > /proc/sys/kernel/sysrq");
    assertThat(sys.exitCode()).isNotZero();
    ExecResult ws = sh(s, "echo ok > /workspace/f && cat /workspace/f");
    assertThat(ws.stdoutText()).isEqualTo("ok\n");
  }

  @Test
  void hostSecretsAndHomesAreNotReadable() throws IOException {
    Path shadow = Path.of("/etc/shadow");
    assumeTrue(Files.exists(shadow), "no /etc/shadow on this host");
    assertThat(Files.readString(shadow))
        .as("precondition: the host file has content")
        .contains("root:");
    Sandbox s = started(SandboxPolicy.minimal());
    ExecResult r = sh(s, "cat /etc/shadow; echo rc=$?");
    assertThat(r.stdoutText()).doesNotContain("root:");
    if (!maskedReadError().isEmpty()) {
      assertThat(r.stderrText()).contains(maskedReadError());
      assertThat(r.stdoutText()).contains("rc=1");
    }
    ExecResult home = sh(s, "cat /root/.bashrc");
    assertThat(home.exitCode()).isNotZero();
    assertThat(home.stderrText()).contains("No such file or directory");
  }

  @Test
  void onlyTheContainersOwnProcessesAreVisibleAndNoHostProcessCanBeSignalled() throws Exception {
    String m = marker();
    Process host = new ProcessBuilder("sleep", m).start();
    try {
      Sandbox s = started(SandboxPolicy.minimal());
      ExecResult list = sh(s, "cat /proc/[0-9]*/cmdline | tr '\\0' ' '; echo; echo listed");
      assertThat(list.stdoutText()).as(list.stderrText()).endsWith("listed\n").doesNotContain(m);
      // The host's pids mean nothing inside: the JVM and the marked process are out of reach.
      long jvm = ProcessHandle.current().pid();
      ExecResult kill = sh(s, "kill -TERM " + jvm + " " + host.pid() + "; echo rc=$?");
      // Busybox counts the failures in its status, coreutils says 1: either way, not 0.
      assertThat(kill.stdoutText()).matches("rc=[1-9]\n");
      assertThat(kill.stderrText()).contains("No such process");
      assertThat(host.isAlive()).isTrue();
    } finally {
      host.destroyForcibly().waitFor();
    }
  }

  @Test
  void aWorkspaceLinkToAHostFileLeadsNowhere() throws IOException {
    Path secret = Files.createTempFile("kavach-host-only-", ".txt");
    try {
      Files.writeString(secret, "HOST-ONLY-" + marker());
      Sandbox s = started(SandboxPolicy.minimal());
      Files.createSymbolicLink(s.workspace().orElseThrow().resolve("link"), secret);
      ExecResult r = sh(s, "cat /workspace/link; echo rc=$?");
      // The link is resolved inside the container, where the host's /tmp does not exist.
      assertThat(r.stdoutText()).doesNotContain("HOST-ONLY").endsWith("rc=1\n");
      assertThat(r.stderrText()).contains("No such file or directory");
    } finally {
      Files.deleteIfExists(secret);
    }
  }

  @Test
  void privilegedOperationsFail() {
    Sandbox s = started(SandboxPolicy.minimal());
    ExecResult chown = sh(s, "touch /workspace/f && chown 0:0 /workspace/f");
    assertThat(chown.exitCode()).isNotZero();
    assertThat(chown.stderrText()).contains("Operation not permitted");
    ExecResult mknod = sh(s, "mknod /tmp/kmem c 1 2 && cat /tmp/kmem > /dev/null");
    assertThat(mknod.exitCode()).isNotZero();
    assertThat(mknod.stderrText()).contains(mknodError());
    ExecResult chroot = sh(s, "chroot / true");
    assertThat(chroot.exitCode()).isNotZero();
    assertThat(chroot.stderrText()).contains("Operation not permitted");
  }

  @Test
  void theSharedSeccompProfileRefusesWhatItDenies() {
    // Control: without seccomp, an unprivileged user namespace can be created in the container.
    Sandbox open = started(SandboxPolicy.minimal());
    ExecResult control = sh(open, "unshare -U true; echo rc=$?");
    assertThat(control.stdoutText()).isEqualTo("rc=0\n");
    assertThat(control.enforcement().seccomp()).isFalse();

    Sandbox basic = started(SandboxPolicy.basic());
    ExecResult r = sh(basic, "grep '^Seccomp:' /proc/self/status; unshare -U true; echo rc=$?");
    assertThat(r.stdoutText()).contains("rc=1");
    assertThat(r.stderrText()).contains("Operation not permitted");
    assertThat(r.enforcement().seccompProfile()).isEqualTo("basic");
    assertThat(r.score().value()).isEqualTo(provider().baseScore() + 10); // seccomp + network
  }

  @Test
  void aWritePastTheFileSizeLimitIsStoppedThere() {
    Sandbox s = started(SandboxPolicy.minimal().toBuilder().maxFileSizeMb(1).build());
    ExecResult r = sh(s, "head -c 3000000 /dev/zero > big; echo rc=$?; wc -c < big");
    // SIGXFSZ (25) ends the writer; nothing past the limit reaches the workspace.
    assertThat(r.stdoutText()).as(r.stderrText()).isEqualTo("rc=153\n1048576\n");
    assertThat(s.workspace().orElseThrow().resolve("big")).hasSize(1 << 20);
    assertThat(r.enforcement().fileSizeLimitBytes()).isEqualTo(1 << 20);
  }

  @Test
  void theStrictProfileStillRunsOrdinaryPrograms() {
    Sandbox s = started(SandboxPolicy.strict());
    ExecResult r =
        sh(s, "echo ok; cat /etc/hostname > /dev/null && sort < /dev/null; unshare -U true");
    assertThat(r.stdoutText()).isEqualTo("ok\n");
    assertThat(r.stderrText()).contains("Operation not permitted");
    assertThat(r.enforcement().seccompProfile()).isEqualTo("strict");
    assertThat(r.enforcement().readOnlyRoot()).isTrue();
    // Every modifier but Landlock: seccomp 5, network 5, read-only root 3, limits 2.
    assertThat(r.score().value()).isEqualTo(provider().baseScore() + 15);
  }

  @Test
  void theProcessLimitStopsAForkBomb() {
    Sandbox s = started(SandboxPolicy.builder().maxPids(24).build());
    String m = marker();
    ExecResult r =
        s.exec(
            ExecRequest.builder(
                    List.of(
                        "/bin/sh",
                        "-c",
                        "i=0; while [ $i -lt 400 ]; do sleep "
                            + m
                            + " & i=$((i+1)); done; echo done"))
                .timeout(Duration.ofSeconds(60))
                .build());
    assertThat(r.enforcement().pidsLimit()).isEqualTo(reportedPids(24));
    if (forkBombEndsTheSandbox()) {
      assertThat(r.signal()).hasValue(9);
      assertThatThrownBy(() -> sh(s, "echo alive")).hasMessageContaining("no longer running");
      return;
    }
    assertThat(r.stderrText()).containsAnyOf("fork", "Resource temporarily unavailable");
    assertThat(sh(s, "echo alive").stdoutText()).isEqualTo("alive\n");
  }

  @Test
  void theMemoryLimitKillsWith137AndSaysSo() {
    Sandbox s = started(SandboxPolicy.builder().memoryLimitMb(64).build());
    ExecResult r = sh(s, "x=$(head -c 300000000 /dev/zero | tr '\\000' a); echo survived ${#x}");
    assertThat(r.stdoutText()).doesNotContain("survived");
    assertThat(r.oomKilled()).as("oomKilled").isTrue();
    assertThat(r.exitCode()).isEqualTo(137);
    assertThat(r.signal()).hasValue(9);
    if (!oomKillsTheSandbox()) {
      assertThat(sh(s, "echo alive").stdoutText()).isEqualTo("alive\n");
    } else {
      assertThatThrownBy(() -> sh(s, "echo alive")).hasMessageContaining("no longer running");
    }
  }

  @Test
  void aTimeoutKillsTheWholeTreeEvenAnEscapee() throws Exception {
    Sandbox s = started(SandboxPolicy.minimal());
    String child = marker();
    String escapee = marker();
    String main = marker();
    ExecResult r =
        s.exec(
            ExecRequest.builder(
                    List.of(
                        "/bin/sh",
                        "-c",
                        "echo before; trap '' TERM; (trap '' TERM; sleep "
                            + child
                            + ") & setsid sh -c 'trap \"\" TERM; sleep "
                            + escapee
                            + " & exit'; sleep "
                            + main))
                .timeout(Duration.ofSeconds(2))
                .build());
    assertThat(r.timedOut()).isTrue();
    assertThat(r.signal()).hasValue(9);
    assertThat(r.stdoutText()).isEqualTo("before\n");
    for (String m : List.of(child, escapee, main)) {
      assertThat(processesAfter(s, m, 5000)).as("process " + m).isEmpty();
    }
  }

  @Test
  void aCommandCannotKillItsAgentToEscapeCleanup() throws Exception {
    Sandbox s = started(SandboxPolicy.minimal());
    String escapee = marker();
    ExecResult r = sh(s, "setsid sh -c 'sleep " + escapee + " & exit'; kill -9 $PPID; echo rc=$?");
    if (r.enforcement().notes().stream().anyMatch(n -> n.startsWith("commands cannot signal"))) {
      // Landlock signal scope: the agent is outside the command's domain.
      assertThat(r.stderrText()).contains("Operation not permitted");
      assertThat(r.stdoutText()).contains("rc=1");
    }
    // Whether the kill was refused or not, nothing of the exec survives it.
    assertThat(processesAfter(s, escapee, 5000)).isEmpty();
    assertThat(sh(s, "echo next").stdoutText()).isEqualTo("next\n");
  }

  @Test
  void secretsNeverAppearInArgvOrRunFiles() throws Exception {
    String secret = "kavach-secret-" + ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50);
    SandboxConfig config =
        SandboxConfig.builder()
            .backend(provider().name())
            .policy(SandboxPolicy.minimal())
            .secret(SecretRef.env("token", "API_TOKEN"))
            .credentials(name -> Optional.of(secret.getBytes(StandardCharsets.UTF_8)))
            .build();
    Sandbox s = started(config);
    String m = marker();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<ExecResult> running =
          pool.submit(() -> sh(s, "echo \"$API_TOKEN\" > /workspace/seen; sleep " + m));
      // The runtime client's own argv names the marker at once; the command inside writes the
      // file just before it sleeps, so wait for the file, then for the sleep inside.
      Path seen = s.workspace().orElseThrow().resolve("seen");
      long deadline = System.currentTimeMillis() + 60_000;
      ExecResult ps = sh(s, "cat /proc/[0-9]*/cmdline | tr '\\000' ' '");
      while ((!Files.exists(seen) || !ps.stdoutText().contains(m))
          && System.currentTimeMillis() < deadline) {
        Thread.sleep(50);
        ps = sh(s, "cat /proc/[0-9]*/cmdline | tr '\\000' ' '");
      }
      assertThat(ps.stdoutText()).as("argv inside").contains(m).doesNotContain(secret);
      assertThat(Leftovers.processesMatching(secret)).as("host argv").isEmpty();
      Path dir = ContainerLayout.BASE.resolve("kavach-" + s.id());
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path f : files.filter(Files::isRegularFile).toList()) {
          if (f.getFileName().toString().equals("kavach-agent-oci")) {
            continue;
          }
          assertThat(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1))
              .as("run file " + f)
              .doesNotContain(secret);
        }
      }
      s.stop();
      running.get();
    } finally {
      pool.shutdownNow();
    }
    assertThat(s.workspace().orElseThrow().resolve("seen")).hasContent(secret);
  }

  @Test
  void pauseFreezesEveryProcessAndResumeThawsThem() throws Exception {
    Sandbox s = started(SandboxPolicy.minimal());
    Path counter = s.workspace().orElseThrow().resolve("counter");
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<ExecResult> loop =
          pool.submit(
              () ->
                  s.exec(
                      ExecRequest.builder(
                              List.of(
                                  "/bin/sh",
                                  "-c",
                                  "i=0; while :; do i=$((i+1)); echo $i > /workspace/counter.tmp;"
                                      + " mv /workspace/counter.tmp /workspace/counter;"
                                      + " sleep 0.05; done"))
                          .timeout(Duration.ofMinutes(2))
                          .build()));
      long before = awaitCounter(counter, 3);
      s.pause();
      Thread.sleep(300); // a write in flight when the freezer hit
      long frozen = read(counter);
      Thread.sleep(1500);
      assertThat(read(counter)).as("counter while paused").isEqualTo(frozen);
      assertThat(frozen).isGreaterThanOrEqualTo(before);
      s.resume();
      assertThat(awaitCounter(counter, frozen + 5)).isGreaterThan(frozen);
      s.stop();
      assertThat(loop.get().succeeded()).isFalse();
    } finally {
      pool.shutdownNow();
    }
  }

  private static long awaitCounter(Path counter, long atLeast) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 30_000;
    long v = read(counter);
    while (v < atLeast && System.currentTimeMillis() < deadline) {
      Thread.sleep(50);
      v = read(counter);
    }
    assertThat(v).as("counter reached " + atLeast).isGreaterThanOrEqualTo(atLeast);
    return v;
  }

  private static long read(Path counter) {
    try {
      String t = Files.readString(counter).trim();
      return t.isEmpty() ? 0 : Long.parseLong(t);
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
  }

  /** The host's cgroup layout, for subclasses that look at cgroup files. */
  protected static dev.kavach.internal.host.CgroupLayout cgroups() {
    return HostProbe.system().cgroups();
  }
}
