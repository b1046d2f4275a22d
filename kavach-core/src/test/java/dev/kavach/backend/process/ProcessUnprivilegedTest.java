package dev.kavach.backend.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kavach.internal.exec.Exec;
import dev.kavach.internal.fs.Trees;
import dev.kavach.internal.host.HostProbe;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The process backend without root: a user created for the test runs a JVM that opens sandboxes
 * through user namespaces. Isolation must hold the same way, and a memory limit, which needs a
 * cgroup the user was never delegated, must fail closed.
 */
@Timeout(300)
class ProcessUnprivilegedTest {
  private static final String USER =
      "kavach-test-" + Integer.toString(ThreadLocalRandom.current().nextInt(1 << 20), 36);
  private static Path dir;
  private static String classPath;
  private static int uid;

  @BeforeAll
  static void createUser() throws IOException {
    assumeTrue(HostProbe.system().uid() == 0, "creating a test user needs root");
    assumeTrue(Files.isExecutable(Path.of("/usr/sbin/useradd")), "no useradd");
    run(
        List.of(
            "/usr/sbin/useradd", "--system", "--no-create-home", "--shell", "/bin/false", USER));
    uid = Integer.parseInt(run(List.of("id", "-u", USER)).stdoutText().strip());
    // The test's class path lives under /root (Maven's repository): copy it where the user can
    // read it.
    dir = Trees.createPrivateTempDirectory("kavach-unpriv-");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    List<String> entries = new ArrayList<>();
    int i = 0;
    for (String entry : System.getProperty("java.class.path").split(":")) {
      Path src = Path.of(entry);
      if (!Files.exists(src)) {
        continue;
      }
      Path dst = dir.resolve(i++ + "-" + src.getFileName());
      copy(src, dst);
      entries.add(dst.toString());
    }
    run(List.of("chmod", "-R", "a+rX", dir.toString()));
    classPath = String.join(":", entries);
  }

  @AfterAll
  static void removeUser() throws IOException {
    if (dir == null) {
      return;
    }
    Trees.deleteRecursively(dir);
    // The user's launcher cache (no home directory, so under the temp dir) and the user itself.
    Path cache = Path.of(System.getProperty("java.io.tmpdir"), "kavach-" + uid);
    Trees.deleteRecursively(cache);
    run(List.of("pkill", "-KILL", "-u", USER)); // nothing should be left; make sure
    run(List.of("/usr/sbin/userdel", USER));
  }

  private static void copy(Path src, Path dst) throws IOException {
    if (Files.isDirectory(src)) {
      try (Stream<Path> walk = Files.walk(src)) {
        for (Path p : (Iterable<Path>) walk::iterator) {
          Path target = dst.resolve(src.relativize(p).toString());
          if (Files.isDirectory(p)) {
            Files.createDirectories(target);
          } else {
            Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
          }
        }
      }
    } else {
      Files.copy(src, dst, StandardCopyOption.COPY_ATTRIBUTES);
    }
  }

  private static Exec.Result run(List<String> argv) {
    return Exec.run(Exec.command(argv).timeout(Duration.ofMinutes(2)).build());
  }

  /** Runs {@link UnprivilegedMain} as the test user. */
  private static String asUser(String... args) {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> argv =
        new ArrayList<>(
            List.of(
                "/usr/sbin/runuser",
                "-u",
                USER,
                "--",
                java,
                // no /tmp/hsperfdata_<user> left behind once the user is gone
                "-XX:-UsePerfData",
                "-cp",
                classPath,
                UnprivilegedMain.class.getName()));
    argv.addAll(List.of(args));
    Exec.Result r =
        Exec.run(
            Exec.command(argv)
                .env(Map.of("PATH", "/usr/bin:/bin"))
                .cwd(dir)
                .timeout(Duration.ofMinutes(2))
                .build());
    assertThat(r.exitValue()).as("JVM as %s: %s", USER, r.stderrText()).isZero();
    return r.stdoutText();
  }

  @Test
  void isolatesThroughUserNamespacesWithoutRoot() {
    String out = asUser("basic");
    assertThat(out)
        .contains(
            "exit=0",
            "namespaces=[cgroup, ipc, mount, net, pid, user, uts]",
            "seccomp=basic",
            "uid=" + uid,
            "\n" + uid + "\n",
            "CapEff:\t0000000000000000",
            "CapBnd:\t0000000000000000",
            "NoNewPrivs:\t1",
            "Seccomp:\t2",
            "workspace-ok",
            "Read-only file system")
        .doesNotContain("failed=");
    // The user's own uid, mapped to itself: nothing else exists in its namespace.
    assertThat(out).containsPattern("\\s+" + uid + "\\s+" + uid + "\\s+1\\n");
    assertThat(out).containsPattern("landlock=[1-9]");
  }

  @Test
  void theEgressRelayWorksWithoutRoot() {
    // The supervisor (the user's uid) opens the proxy's socket in its 0700 directory; the relay
    // inside the user namespace reaches it through that descriptor.
    String out = asUser("egress");
    assertThat(out)
        .contains(
            "exit=0",
            "isolated=true",
            "uid=" + uid,
            "origin-ok\n",
            "kavach egress: denied: port 1 of 127.0.0.1 is not allowed")
        .doesNotContain("failed=");
  }

  @Test
  void aMemoryLimitWithoutCgroupDelegationFailsClosed() {
    String out = asUser("minimal", "limit");
    assertThat(out).startsWith("failed=ENFORCEMENT_FAILED: ").contains("memory_limit_mb");
    assertThat(out).doesNotContain("exit=");
  }

  @Test
  void bestEffortRunsWithoutTheLimitAndScoresOnlyWhatWasApplied() {
    String out = asUser("minimal", "limit-best-effort");
    assertThat(out)
        .contains("exit=0", "memory=0", "Seccomp:\t0")
        .containsPattern(
            "notes=\\[.*memory_limit_mb: not applied \\(cgroup limits are unavailable: ");
    // Declared counts the requested limit (+2); the report has no limit, so the score does not.
    assertThat(out).containsPattern("score=(\\d+) declared=(\\d+)");
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("score=(\\d+) declared=(\\d+)").matcher(out);
    assertThat(m.find()).isTrue();
    assertThat(Integer.parseInt(m.group(1))).isEqualTo(61); // 50 + landlock, net, read-only root
  }

  @Test
  void strictNeedsItsLimitsAndSaysSo() {
    String out = asUser("strict");
    assertThat(out).startsWith("failed=ENFORCEMENT_FAILED: ");
    assertThat(out).doesNotContain("exit=");
  }
}
