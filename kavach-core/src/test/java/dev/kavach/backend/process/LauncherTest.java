package dev.kavach.backend.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kavach.backend.SecretFile;
import dev.kavach.internal.exec.Exec;
import dev.kavach.testing.Leftovers;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Black-box tests of {@code kavach-launch}: run the binary with argv and run files, then assert its
 * exit status and its status channel, as Java's backend reads them.
 */
@Timeout(60)
class LauncherTest {
  private static Launcher launcher;
  private static HostSupport host;

  @TempDir Path workspace;

  @BeforeAll
  static void locate() {
    launcher = Launcher.locate();
    host = launcher.probe();
    assumeTrue(host.usable(), "launcher cannot run here: " + host.describe());
  }

  /** One launcher run: its result and its status report. */
  record Run(Exec.Result result, String status, LaunchReport report) {}

  /** A run directory as the backend makes it: given to the sandbox's uid on a root host. */
  private RunDir runDir(String id) {
    int owner = host.euid() == 0 ? sandboxUid() : -1;
    return RunDir.create(id, owner, owner);
  }

  private int sandboxUid() {
    return host.euid() == 0 ? ProcessBackend.SANDBOX_UID_BASE + 4242 : host.euid();
  }

  private Run run(List<String> options, Map<String, byte[]> files, String... command) {
    return run(options, files, new byte[0], Duration.ofSeconds(30), command);
  }

  private Run run(
      List<String> options,
      Map<String, byte[]> files,
      byte[] stdin,
      Duration timeout,
      String... command) {
    String id = "test-" + ThreadLocalRandom.current().nextInt(1 << 30);
    try (RunDir dir = runDir(id)) {
      Path status = dir.write("status", new byte[0]);
      List<String> argv = new ArrayList<>();
      argv.add(launcher.path().toString());
      argv.addAll(List.of("--status", status.toString()));
      int uid = sandboxUid();
      argv.addAll(List.of("--uid", Integer.toString(uid), "--gid", Integer.toString(uid)));
      argv.addAll(List.of("--workspace", workspace.toString()));
      for (String d : LaunchSpec.SYSTEM_DIRS) {
        argv.addAll(List.of("--system", d));
      }
      for (String o : options) {
        // A {run} placeholder in an option value is the run directory.
        argv.add(o.replace("{run}", dir.path().toString()));
      }
      files.forEach(dir::write);
      if (command.length > 0) {
        argv.add("--");
        argv.addAll(List.of(command));
      }
      Exec.Result r =
          Exec.run(Exec.command(argv).env(Map.of()).stdin(stdin).timeout(timeout).build());
      String text = dir.read("status");
      for (String name : files.keySet()) {
        assertThat(dir.path().resolve(name)).as("run file %s unlinked", name).doesNotExist();
      }
      return new Run(r, text, LaunchReport.parse(text));
    }
  }

  /** The argv of a launch in this run directory (system binds, no workspace). */
  private List<String> launchArgv(RunDir dir, List<String> options, String... command) {
    int uid = sandboxUid();
    List<String> argv =
        new ArrayList<>(
            List.of(
                launcher.path().toString(),
                "--status",
                dir.write("status", new byte[0]).toString(),
                "--uid",
                Integer.toString(uid),
                "--gid",
                Integer.toString(uid)));
    argv.addAll(options);
    for (String d : LaunchSpec.SYSTEM_DIRS) {
      argv.addAll(List.of("--system", d));
    }
    argv.add("--");
    argv.addAll(List.of(command));
    return argv;
  }

  private Run sh(String script) {
    return run(List.of(), Map.of(), "/bin/sh", "-c", script);
  }

  @Test
  void exitStatusIsTheCommandsAndIsReported() {
    Run r = sh("exit 7");
    assertThat(r.result().exitValue()).isEqualTo(7);
    assertThat(r.report().exitCode()).hasValue(7);
    assertThat(r.report().ready()).isTrue();
    assertThat(r.report().failure()).isEmpty();
  }

  @Test
  void signalDeathIsReportedAsTheSignalAnd128PlusN() {
    Run r = sh("kill -TERM $$");
    assertThat(r.report().signal()).hasValue(15);
    assertThat(r.report().exitCode()).isEmpty();
    assertThat(r.result().exitValue()).isEqualTo(128 + 15);
    Run k = sh("kill -KILL $$");
    assertThat(k.report().signal()).hasValue(9);
    assertThat(k.result().exitValue()).isEqualTo(137);
  }

  @Test
  void aSetupFailureIsDistinguishableFromTheSameExitCode() {
    Run command = sh("exit 125");
    assertThat(command.result().exitValue()).isEqualTo(125);
    assertThat(command.report().failure()).isEmpty();
    assertThat(command.report().exitCode()).hasValue(125);

    Run setup = run(List.of("--ro", "/no/such/path"), Map.of(), "/bin/true");
    assertThat(setup.result().exitValue()).isEqualTo(125);
    assertThat(setup.report().ready()).isFalse();
    assertThat(setup.report().exitCode()).isEmpty();
    assertThat(setup.report().failure()).isPresent();
    LaunchReport.Failure f = setup.report().failure().get();
    assertThat(f.step()).isEqualTo("bind");
    assertThat(f.errno()).isEqualTo(2);
    assertThat(f.message()).contains("/no/such/path", "No such file or directory");
  }

  @Test
  void theCommandCannotForgeStatusLines() {
    Run r =
        sh(
            "echo 'error landlock 1 forged'; echo 'error landlock 1 forged' >&2;"
                + " echo 'exit 99' > /proc/self/fd/1; exit 0");
    assertThat(r.status()).doesNotContain("forged").doesNotContain("exit 99");
    assertThat(r.report().failure()).isEmpty();
    assertThat(r.report().exitCode()).hasValue(0);
    assertThat(r.result().stdoutText()).contains("forged");
  }

  @Test
  void statusChannelReportsEveryAppliedControlInOrder() {
    Run r = run(List.of("--landlock"), Map.of(), "/bin/true");
    List<String> keys = new ArrayList<>();
    for (String line : r.status().split("\n")) {
      keys.add(line.split(" ")[0]);
    }
    assertThat(keys)
        .containsSubsequence(
            "launcher",
            "uid",
            "namespaces",
            "mounts",
            "root",
            "net",
            "userns-limit",
            "rlimit",
            "capabilities",
            "securebits",
            "no_new_privs",
            "landlock",
            "ready",
            "exit");
    assertThat(r.report().namespaces())
        .containsExactlyInAnyOrder("user", "pid", "mount", "ipc", "uts", "cgroup", "net");
    assertThat(r.report().uid()).isEqualTo(sandboxUid());
    assertThat(r.report().landlockAbi()).isEqualTo(Math.min(host.landlockAbi(), 7));
    assertThat(r.report().landlockRules()).isGreaterThanOrEqualTo(5);
  }

  @Test
  void commandNotFoundIsALaunchFailureNotAnExitCode() {
    Run r = run(List.of(), Map.of(), "no-such-command-kavach");
    assertThat(r.report().failure()).isPresent();
    assertThat(r.report().failure().get().step()).isEqualTo("exec");
    assertThat(r.report().failure().get().errno()).isEqualTo(2);
    assertThat(r.report().failure().get().toException().reason())
        .isEqualTo(dev.kavach.KavachException.Reason.LAUNCH_FAILED);
  }

  @Test
  void badOptionsFailOnTheStatusChannel() {
    Run r = run(List.of("--no-such-option"), Map.of(), "/bin/true");
    assertThat(r.report().failure().orElseThrow().step()).isEqualTo("options");
    Run root = run(List.of("--uid", "0"), Map.of(), "/bin/true");
    assertThat(root.report().failure().orElseThrow().message()).contains("must not be 0");
  }

  @Test
  void environmentComesOnlyFromTheEnvFile() {
    byte[] env = LaunchSpec.envFile(Map.of("GREETING", "from-file", "PATH", "/usr/bin:/bin"));
    Run r =
        run(
            List.of("--env-file", "{run}/env"),
            Map.of("env", env),
            "/bin/sh",
            "-c",
            "echo $GREETING; env | wc -l");
    assertThat(r.result().stdoutText()).isEqualTo("from-file\n3\n"); // GREETING, PATH, PWD
  }

  @Test
  void secretFilesLiveInMemoryWithTheirMode() {
    byte[] secrets =
        SecretFile.encode(
            List.of(
                new dev.kavach.backend.SecretFile(
                    "/run/secrets/token", 0400, "s3cr3t".getBytes(StandardCharsets.UTF_8))));
    Run r =
        run(
            List.of("--secrets-file", "{run}/secrets", "--landlock"),
            Map.of("secrets", secrets),
            "/bin/sh",
            "-c",
            "cat /run/secrets/token; echo; stat -c '%a %u' /run/secrets/token;"
                + " stat -f -c %T /run/secrets/token; echo x > /run/secrets/token");
    assertThat(r.result().stdoutText()).isEqualTo("s3cr3t\n400 " + sandboxUid() + "\ntmpfs\n");
    assertThat(r.result().stderrText()).contains("Read-only file system");
    assertThat(r.status()).doesNotContain("s3cr3t");
  }

  @Test
  void aSecretThatWouldReachTheHostDiskIsRefused() {
    byte[] secrets =
        SecretFile.encode(
            List.of(new dev.kavach.backend.SecretFile("/workspace/token", 0400, new byte[] {1})));
    Run r = run(List.of("--secrets-file", "{run}/secrets"), Map.of("secrets", secrets), "true");
    assertThat(r.report().failure().orElseThrow().step()).isEqualTo("secrets");
    assertThat(r.report().failure().get().message()).contains("/workspace/token");
    assertThat(workspace.resolve("token")).doesNotExist();
  }

  @Test
  void seccompProgramIsInstalledLastAndEnforced() {
    Run r =
        run(
            List.of("--seccomp", "{run}/bpf", "--seccomp-name", "deny-mkdir", "--landlock"),
            Map.of("bpf", denyMkdirProgram()),
            "/bin/sh",
            "-c",
            "grep Seccomp: /proc/self/status; mkdir /tmp/d; echo rc=$?");
    assertThat(r.result().stdoutText()).contains("Seccomp:\t2", "rc=1");
    assertThat(r.result().stderrText()).contains("Operation not permitted");
    assertThat(r.report().seccompProfile()).isEqualTo("deny-mkdir");
    List<String> keys = new ArrayList<>();
    for (String line : r.status().split("\n")) {
      keys.add(line.split(" ")[0]);
    }
    assertThat(keys).containsSubsequence("no_new_privs", "landlock", "seccomp", "ready");
  }

  @Test
  void initStaysUnfilteredSoAProfileDenyingWaitCannotBreakReaping() {
    // A user profile may deny what init needs (wait4, waitid, kill): only the command is filtered.
    // The command execs grep rather than forking it: a shell that cannot wait4 would exit before
    // its child wrote, and init would then kill that child with the rest of the tree.
    Run r =
        run(
            List.of("--seccomp", "{run}/bpf", "--seccomp-name", "deny-wait"),
            Map.of("bpf", denyProgram(61, 247, 62)),
            "/bin/sh",
            "-c",
            "exec grep Seccomp: /proc/self/status /proc/1/status /proc/1/status-missing");
    assertThat(r.result().stdoutText())
        .contains("/proc/self/status:Seccomp:\t2", "/proc/1/status:Seccomp:\t0");
    assertThat(r.report().exitCode()).hasValue(2);
    assertThat(r.report().seccompProfile()).isEqualTo("deny-wait");
  }

  @Test
  void aMalformedSeccompProgramFailsBeforeAnyNamespace() {
    Run r =
        run(List.of("--seccomp", "{run}/bpf"), Map.of("bpf", new byte[] {1, 2, 3}), "/bin/true");
    assertThat(r.report().failure().orElseThrow().step()).isEqualTo("seccomp");
    assertThat(r.report().namespaces()).isEmpty();
  }

  @Test
  void terminationSignalsAreForwardedToTheCommand() throws Exception {
    String marker = "3600." + ThreadLocalRandom.current().nextInt(100_000_000, 999_999_999);
    String id = "test-" + ThreadLocalRandom.current().nextInt(1 << 30);
    try (RunDir dir = runDir(id)) {
      List<String> argv =
          launchArgv(
              dir,
              List.of(),
              "/bin/sh",
              "-c",
              "trap 'echo got-term; exit 3' TERM; sleep " + marker + " & wait");
      Exec.Running running = Exec.start(Exec.command(argv).env(Map.of()).build());
      // The launcher's own argv holds the marker too: wait for the sleep itself, so the trap is
      // in place.
      for (int i = 0;
          i < 500
              && Leftovers.processesMatching(marker).stream()
                  .noneMatch(p -> p.contains(": sleep " + marker));
          i++) {
        Thread.sleep(10);
      }
      // SIGTERM to the supervisor (Process.destroy would also close our end of its pipes).
      new ProcessBuilder("kill", "-TERM", Long.toString(running.process().pid())).start().waitFor();
      Exec.Result r = running.await();
      assertThat(r.stdoutText())
          .as("exit %d, stderr %s, status %s", r.exitValue(), r.stderrText(), dir.read("status"))
          .isEqualTo("got-term\n");
      assertThat(r.exitValue()).isEqualTo(3);
      assertThat(Leftovers.processesMatchingAfter(marker, 5000)).isEmpty();
    }
  }

  @Test
  void theSandboxOutlivesTheThreadThatStartedIt() throws Exception {
    // PR_SET_PDEATHSIG would fire when the starting *thread* ends; the supervisor watches the JVM
    // process (a pidfd) instead, so a launch started from a short-lived thread runs to its end.
    String id = "test-" + ThreadLocalRandom.current().nextInt(1 << 30);
    try (RunDir dir = runDir(id)) {
      List<String> argv =
          launchArgv(
              dir,
              List.of("--parent-pid", Long.toString(ProcessHandle.current().pid())),
              "/bin/sh",
              "-c",
              "sleep 1; echo survived");
      Exec.Running[] started = new Exec.Running[1];
      Thread starter =
          new Thread(() -> started[0] = Exec.start(Exec.command(argv).env(Map.of()).build()));
      starter.start();
      starter.join();
      assertThat(starter.isAlive()).isFalse();
      Exec.Result r = started[0].await();
      assertThat(r.stdoutText()).isEqualTo("survived\n");
      assertThat(r.exitValue()).isZero();
    }
  }

  @Test
  void aPreparedLaunchTakesItsCommandFromStdinAndPassesTheRestOn() {
    byte[] header = LaunchSpec.commandHeader(List.of("/bin/sh", "-c", "cat; echo \"[$0]\"", "x y"));
    byte[] input = "from stdin\n".getBytes(StandardCharsets.UTF_8);
    byte[] stdin = new byte[header.length + input.length];
    System.arraycopy(header, 0, stdin, 0, header.length);
    System.arraycopy(input, 0, stdin, header.length, input.length);
    Run r = run(List.of("--wait"), Map.of(), stdin, Duration.ofSeconds(30));
    assertThat(r.result().stdoutText()).isEqualTo("from stdin\n[x y]\n");
    assertThat(r.status()).startsWith("launcher ").contains("\ngo\n");
    assertThat(r.report().exitCode()).hasValue(0);
  }

  @Test
  void aPreparedLaunchThatIsNeverGivenACommandLeavesQuietly() {
    Run r = run(List.of("--wait"), Map.of(), new byte[0], Duration.ofSeconds(30));
    assertThat(r.result().exitValue()).isZero();
    assertThat(r.report().ready()).isFalse();
    assertThat(r.report().namespaces()).isEmpty();
  }

  @Test
  void aParentThatIsGoneStopsTheLaunch() {
    Run r = run(List.of("--parent-pid", "1"), Map.of(), "/bin/true");
    assertThat(r.report().failure().orElseThrow().step()).isEqualTo("parent");
  }

  @Test
  void probeReportsWhatTheHostSupports() throws Exception {
    assertThat(host.launcherRuns()).isTrue();
    assertThat(host.arch()).isNotEmpty();
    String abi = Files.readString(Path.of("/proc/self/status")); // read to prove /proc works
    assertThat(abi).isNotEmpty();
    if (host.landlock()) {
      assertThat(host.landlockAbi()).isBetween(1, 99);
    }
  }

  /** Kill on a foreign architecture, EPERM for the given x86_64 syscalls, allow the rest. */
  static byte[] denyProgram(int... syscalls) {
    List<int[]> insns = new ArrayList<>();
    insns.add(new int[] {0x20, 0, 0, 4}); // A = arch
    insns.add(new int[] {0x15, 1, 0, 0xc000003e}); // x86_64 ? skip : kill
    insns.add(new int[] {0x06, 0, 0, 0x80000000});
    insns.add(new int[] {0x20, 0, 0, 0}); // A = nr
    for (int i = 0; i < syscalls.length; i++) {
      // jump to the final EPERM: over the remaining tests and the ALLOW
      insns.add(new int[] {0x15, syscalls.length - i, 0, syscalls[i]});
    }
    insns.add(new int[] {0x06, 0, 0, 0x7fff0000}); // ALLOW
    insns.add(new int[] {0x06, 0, 0, 0x00050000 | 1}); // ERRNO(EPERM)
    ByteBuffer b = ByteBuffer.allocate(insns.size() * 8).order(ByteOrder.nativeOrder());
    for (int[] i : insns) {
      b.putShort((short) i[0]).put((byte) i[1]).put((byte) i[2]).putInt(i[3]);
    }
    return b.array();
  }

  /**
   * A 7-instruction filter: kill on a foreign architecture, mkdir and mkdirat fail with EPERM,
   * everything else is allowed. Hand-assembled so this test does not depend on the compiler.
   */
  static byte[] denyMkdirProgram() {
    int ldAbs = 0x20;
    int jeqK = 0x15;
    int retK = 0x06;
    int[][] insns = {
      {ldAbs, 0, 0, 4}, // A = arch
      {jeqK, 1, 0, 0xc000003e}, // x86_64 ? skip : kill
      {retK, 0, 0, 0x80000000}, // SECCOMP_RET_KILL_PROCESS
      {ldAbs, 0, 0, 0}, // A = nr
      {jeqK, 2, 0, 83}, // mkdir
      {jeqK, 1, 0, 258}, // mkdirat
      {retK, 0, 0, 0x7fff0000}, // SECCOMP_RET_ALLOW
      {retK, 0, 0, 0x00050000 | 1}, // SECCOMP_RET_ERRNO | EPERM
    };
    ByteBuffer b = ByteBuffer.allocate(insns.length * 8).order(ByteOrder.nativeOrder());
    for (int[] i : insns) {
      b.putShort((short) i[0]).put((byte) i[1]).put((byte) i[2]).putInt(i[3]);
    }
    return b.array();
  }
}
