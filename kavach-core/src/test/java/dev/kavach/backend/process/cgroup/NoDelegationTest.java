package dev.kavach.backend.process.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kavach.internal.exec.Exec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Without root and without a delegated cgroup, limits fail closed and the message names the missing
 * delegation. Runs the real code in a second JVM as {@code nobody} (through {@code setpriv}), since
 * this JVM runs as root.
 */
@Timeout(60)
class NoDelegationTest {
  @Test
  void anUnprivilegedUserGetsAClearRefusal() throws Exception {
    CgroupHost.assumeRootWithCgroups();
    Path setpriv = CgroupHost.HOST.which("setpriv").orElse(null);
    assumeTrue(setpriv != null, "setpriv (util-linux) is not installed");
    String java = ProcessHandle.current().info().command().orElseThrow();
    String classpath =
        Path.of(SandboxCgroup.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            + ":"
            + Path.of(
                NoDelegationMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    String id = CgroupHost.newId();
    Exec.Result r =
        Exec.run(
            Exec.command(
                    List.of(
                        setpriv.toString(),
                        "--reuid=65534",
                        "--regid=65534",
                        "--clear-groups",
                        "--",
                        java,
                        "-Xshare:auto",
                        "-XX:TieredStopAtLevel=1",
                        // no /tmp/hsperfdata_nobody left behind
                        "-XX:-UsePerfData",
                        "-cp",
                        classpath,
                        NoDelegationMain.class.getName(),
                        id))
                .timeout(Duration.ofSeconds(45))
                .build());
    String out = r.stdoutText().trim();
    assumeTrue(
        !r.stderrText().contains("Could not find or load main class"),
        "user nobody cannot read the test classes: " + r.stderrText());
    assertThat(out)
        .as("stderr: %s", r.stderrText())
        .contains("NO LIMITS [] false")
        .contains("NOTE peak memory and OOM reporting: unavailable (cannot create ")
        .startsWith("ENFORCEMENT_FAILED: memory_limit_mb: cannot create ")
        .containsPattern("/kavach(/jvm-[0-9]+-[0-9]+-[0-9]+)?(/" + id + ")?: Permission denied")
        .contains("no cgroup delegation: user nobody may not create cgroups here");
  }
}
