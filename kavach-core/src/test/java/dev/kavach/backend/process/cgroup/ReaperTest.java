package dev.kavach.backend.process.cgroup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kavach.testing.Leftovers;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A JVM killed with SIGKILL cannot destroy its sandboxes. The next sandbox created on the host
 * finds their groups under the dead JVM's name, kills what still runs in them and removes them.
 */
@Timeout(60)
class ReaperTest {
  @Test
  void groupsOfAKilledJvmAreRemovedByTheNextCreation() throws Exception {
    CgroupHost.assumeRootWithCgroups();
    String marker = "7777." + (100000 + ThreadLocalRandom.current().nextInt(900000));
    String java = ProcessHandle.current().info().command().orElseThrow();
    String classpath =
        Path.of(SandboxCgroup.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            + ":"
            + Path.of(OrphanMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    Process child =
        new ProcessBuilder(
                java, "-cp", classpath, OrphanMain.class.getName(), CgroupHost.newId(), marker)
            .redirectErrorStream(true)
            .start();
    List<Path> dirs;
    try {
      BufferedReader out =
          new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine();
      assertThat(line).as("child JVM output").startsWith("READY ");
      dirs = Arrays.stream(line.substring(6).split(" ")).map(Path::of).toList();
    } finally {
      child.destroyForcibly(); // SIGKILL: no shutdown hook, no destroy
    }
    assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(dirs).isNotEmpty().allMatch(d -> d.toFile().isDirectory());
    assertThat(Leftovers.processesMatching("sleep " + marker)).as("the orphan survived").hasSize(1);

    SandboxCgroup next =
        SandboxCgroup.create(
            CgroupHost.newId(),
            CgroupLimits.none(),
            false,
            CgroupHost.HOST.cgroups(),
            CgroupHost.own());
    try {
      for (Path d : dirs) {
        assertThat(d).as("left by the killed JVM").doesNotExist();
        Path owner = d;
        while (!owner.getFileName().toString().startsWith("jvm-")) {
          owner = owner.getParent();
        }
        assertThat(owner).as("the killed JVM's own directory").doesNotExist();
      }
      assertThat(Leftovers.processesMatchingAfter("sleep " + marker, 5000)).isEmpty();
      // The living JVM's own groups are untouched.
      assertThat(next.directories()).allMatch(d -> d.toFile().isDirectory());
    } finally {
      next.destroy();
    }
  }
}
