package dev.kavach.backend.process.seccomp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kavach.internal.exec.Exec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Compiled programs enforced by the real kernel: each is handed to bubblewrap ({@code bwrap
 * --seccomp FD}), which installs it right before exec as the launcher will, and real programs run
 * under it. Every forbidden attempt runs twice, in the same sandbox with and without the filter
 * (with {@code --cap-add ALL}, so the kernel itself would allow most of them): the filtered run
 * must fail with exactly the profile's errno, and the unfiltered run must not, so a pass cannot
 * come from the kernel refusing on its own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class SeccompEnforcementTest {
  /** Where the test's directory (the probe script) appears inside the sandbox. */
  private static final String PROBE_DIR = "/tmp/kavach-probe";

  private Path dir;
  private Path bwrap;
  private Path python;
  private List<String> probeArgs;
  private final Map<String, Map<String, String>> probeRuns = new HashMap<>();

  @BeforeAll
  void tools(@TempDir Path tmp) throws IOException {
    dir = tmp;
    bwrap = HostTools.onPath("bwrap").orElse(null);
    HostTools.require(bwrap != null, "bubblewrap (bwrap) is not installed");
    python =
        Files.isExecutable(Path.of("/usr/bin/python3"))
            ? Path.of("/usr/bin/python3")
            : HostTools.onPath("python3").orElse(null);
    HostTools.require(python != null, "python3 is not installed");
    Exec.Result smoke = run(null, false, List.of("/bin/true"));
    HostTools.require(
        smoke.exitValue() == 0,
        "bwrap cannot create a sandbox here: " + smoke.stderrText().strip());
    probeArgs = Probes.arguments();
    Probes.install(dir);
  }

  /**
   * Runs a command in bwrap (read-only host root, fresh /dev, /proc, /tmp, every namespace
   * unshared, all capabilities of its user namespace kept) under a compiled profile, or with no
   * filter when {@code profile} is null.
   */
  private Exec.Result run(@Nullable String profile, boolean networkIsolated, List<String> command)
      throws IOException {
    List<String> argv = new ArrayList<>();
    argv.add("/bin/sh");
    argv.add("-c");
    List<String> sandbox =
        List.of(
            bwrap.toString(),
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--tmpfs",
            "/tmp",
            "--unshare-all",
            "--die-with-parent",
            "--cap-add",
            "ALL",
            "--ro-bind",
            dir.toString(),
            PROBE_DIR);
    if (profile == null) {
      argv.add("exec \"$@\"");
      argv.add("sh");
      argv.addAll(sandbox);
    } else {
      Path bpf = dir.resolve(profile + "-" + networkIsolated + "-" + System.nanoTime() + ".bpf");
      SeccompCompiler.compile(SeccompProfile.resolve(profile), Arch.host(), networkIsolated)
          .writeTo(bpf);
      // bwrap reads the program from a file descriptor; dash only knows fds 0-9.
      argv.add("exec 9<\"$0\" && exec \"$@\"");
      argv.add(bpf.toString());
      argv.addAll(sandbox);
      argv.add("--seccomp");
      argv.add("9");
    }
    argv.add("--");
    argv.addAll(command);
    return Exec.run(
        Exec.command(argv)
            .env(Map.of("PATH", "/usr/local/bin:/usr/bin:/bin", "KAVACH_PROBE", "visible"))
            .timeout(Duration.ofSeconds(60))
            .build());
  }

  private Map<String, String> probes(@Nullable String profile, boolean networkIsolated)
      throws IOException {
    String key = profile + "/" + networkIsolated;
    Map<String, String> cached = probeRuns.get(key);
    if (cached != null) {
      return cached;
    }
    List<String> cmd = new ArrayList<>(List.of(python.toString(), PROBE_DIR + "/probe.py"));
    cmd.addAll(probeArgs);
    Exec.Result r = run(profile, networkIsolated, cmd);
    assertThat(r.exitValue()).as("probe run under %s: %s", key, r.stderrText()).isZero();
    Map<String, String> results = Probes.parse(r.stdoutText());
    assertThat(results).as("probe output under %s", key).hasSize(probeArgs.size() - 1);
    probeRuns.put(key, results);
    return results;
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"basic", "strict"})
  void forbiddenCallsFailWithTheExactErrnoAndOnlyBecauseOfTheFilter(String profile)
      throws IOException {
    Map<String, String> host = probes(null, true);
    Map<String, String> filtered = probes(profile, true);
    List<String> wrong = new ArrayList<>();
    filtered.forEach(
        (probe, got) -> {
          String want = Probes.expected(profile, probe, host);
          if (Probes.fixed(profile, probe)
              && !Probes.SAME_WITHOUT_FILTER.contains(probe)
              && want.equals(host.get(probe))) {
            wrong.add(
                probe
                    + ": the kernel answers "
                    + want
                    + " without the filter too, so this proves nothing");
          }
          if (!got.equals(want)) {
            wrong.add(
                probe
                    + ": expected "
                    + want
                    + ", got "
                    + got
                    + " (without filter: "
                    + host.get(probe)
                    + ")");
          }
        });
    assertThat(wrong).as("probes under " + profile).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"basic", "strict"})
  void withTheNetworkEnabledOnlyVsockIsRefused(String profile) throws IOException {
    Map<String, String> filtered = probes(profile, false);
    assertThat(filtered)
        .containsEntry("socket_inet", "ok")
        .containsEntry("socket_inet6", "ok")
        .containsEntry("socket_packet", "ok")
        .containsEntry("socket_unix", "ok")
        .containsEntry("socket_vsock", "EAFNOSUPPORT")
        .containsEntry("unshare_user", "EPERM")
        .containsEntry("ptrace_traceme", "EPERM");
    assertThat(probes(null, false)).containsEntry("socket_vsock", "ok");
  }

  static Stream<Arguments> ordinaryPrograms() {
    String files =
        "mkdir /tmp/d && echo abc > /tmp/d/a && cp /tmp/d/a /tmp/d/b && head -c 2 /tmp/d/b"
            + " && wc -c < /tmp/d/b && rm -r /tmp/d && test ! -e /tmp/d && echo gone";
    String threads =
        "import subprocess, threading; t = threading.Thread(target=print, args=('t',)); t.start();"
            + " t.join(); print(subprocess.run(['echo', 'child'], capture_output=True,"
            + " text=True).stdout.strip())";
    return Stream.of(
        Arguments.of("strict", List.of("echo", "kavach"), "kavach"),
        Arguments.of("strict", List.of("sh", "-c", "echo hi; echo there >&2"), "hi"),
        Arguments.of("strict", List.of("ls", "/"), "usr"),
        Arguments.of("strict", List.of("cat", "/proc/self/status"), "Seccomp:\t2"),
        Arguments.of("strict", List.of("env"), "KAVACH_PROBE=visible"),
        Arguments.of("strict", List.of("id"), "uid="),
        Arguments.of("strict", List.of("sh", "-c", files), "ab4\ngone"),
        Arguments.of("strict", List.of("sh", "-c", "seq 3 | sort -r | head -1"), "3"),
        Arguments.of("strict", List.of("PYTHON", "-c", "print(1)"), "1"),
        Arguments.of("strict", List.of("PYTHON", "-c", threads), "t\nchild"),
        Arguments.of("basic", List.of("sh", "-c", "echo hi"), "hi"),
        Arguments.of("basic", List.of("cat", "/proc/self/status"), "Seccomp:\t2"),
        Arguments.of("basic", List.of("PYTHON", "-c", "print(1)"), "1"));
  }

  /** Ordinary dynamically linked programs, with the filter visibly installed. */
  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("ordinaryPrograms")
  void ordinaryProgramsRun(String profile, List<String> command, String expected)
      throws IOException {
    List<String> argv = new ArrayList<>(command);
    argv.replaceAll(a -> a.equals("PYTHON") ? python.toString() : a);
    Exec.Result r = run(profile, true, argv);
    assertThat(r.exitValue()).as("%s: %s", command, r.stderrText()).isZero();
    assertThat(r.stdoutText()).contains(expected);
  }

  /** The JVM: threads (clone3 refused, so glibc falls back to clone), mmap, signals, /proc. */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"strict", "basic"})
  void javaVersionRuns(String profile) throws IOException {
    List<Path> javas =
        new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")));
    Path temurin25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");
    if (Files.isExecutable(temurin25)) {
      javas.add(temurin25);
    }
    for (Path java : javas) {
      Exec.Result r = run(profile, true, List.of(java.toString(), "-version"));
      assertThat(r.exitValue()).as("%s -version: %s", java, r.stderrText()).isZero();
      assertThat(r.stderrText()).contains("version \"");
    }
  }

  /** strace dies on PTRACE_TRACEME / PTRACE_SEIZE; without the filter it traces fine. */
  @Test
  void straceCannotTrace() throws IOException {
    Path strace = HostTools.onPath("strace").orElse(null);
    HostTools.require(strace != null, "strace is not installed");
    List<String> cmd = List.of(strace.toString(), "-f", "-o", "/dev/null", "/bin/true");
    assertThat(run(null, true, cmd).exitValue()).isZero();
    for (String profile : SeccompProfile.BUILT_IN) {
      Exec.Result r = run(profile, true, cmd);
      assertThat(r.exitValue()).as(profile).isNotZero();
      assertThat(r.stderrText()).as(profile).contains("Operation not permitted");
    }
  }

  /** unshare(1) asks for a user namespace and gets EPERM. */
  @Test
  void unshareCommandIsRefused() throws IOException {
    List<String> cmd = List.of("unshare", "-U", "/bin/true");
    assertThat(run(null, true, cmd).exitValue()).isZero();
    for (String profile : SeccompProfile.BUILT_IN) {
      Exec.Result r = run(profile, true, cmd);
      assertThat(r.exitValue()).as(profile).isNotZero();
      assertThat(r.stderrText()).as(profile).contains("unshare failed: Operation not permitted");
    }
  }
}
