package dev.kavach.backend.process.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.policy.SandboxPolicy;
import org.junit.jupiter.api.Test;

class CgroupLimitsTest {
  @Test
  void convertsFractionalCoresToAQuotaPer100Ms() {
    assertThat(new CgroupLimits(0, 0.25, 0).cpuQuotaMicros()).isEqualTo(25_000);
    assertThat(new CgroupLimits(0, 1.5, 0).cpuQuotaMicros()).isEqualTo(150_000);
    assertThat(new CgroupLimits(0, 2, 0).cpuQuotaMicros()).isEqualTo(200_000);
    assertThat(new CgroupLimits(0, 0.01, 0).cpuQuotaMicros()).isEqualTo(1_000);
    assertThat(new CgroupLimits(0, 0.123456, 0).cpuQuotaMicros()).isEqualTo(12_346);
  }

  @Test
  void refusesQuotasTheKernelCannotExpress() {
    // Rounding 0.005 up to the kernel's 1 ms minimum would grant twice the CPU asked for.
    assertThatThrownBy(() -> new CgroupLimits(0, 0.005, 0).cpuQuotaMicros())
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("cpu_limit (0.005) is below the smallest CPU quota")
        .satisfies(
            e -> assertThat(((KavachException) e).reason()).isEqualTo(Reason.POLICY_INVALID));
    assertThatThrownBy(() -> new CgroupLimits(0, 1e9, 0).cpuQuotaMicros())
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("beyond the largest CPU quota");
  }

  @Test
  void readsThePolicy() {
    SandboxPolicy strict = SandboxPolicy.strict();
    CgroupLimits l = CgroupLimits.of(strict);
    assertThat(l.memoryBytes()).isEqualTo(512L * 1024 * 1024);
    assertThat(l.cpuCores()).isEqualTo(1.0);
    assertThat(l.pids()).isEqualTo(64);
    assertThat(CgroupLimits.of(SandboxPolicy.minimal()).isEmpty())
        .isEqualTo(!SandboxPolicy.minimal().hasResourceLimits());
    assertThat(CgroupLimits.none().isEmpty()).isTrue();
  }

  @Test
  void rejectsNegativeValues() {
    assertThatThrownBy(() -> new CgroupLimits(-1, 0, 0)).hasMessageContaining("memoryBytes");
    assertThatThrownBy(() -> new CgroupLimits(0, Double.NaN, 0)).hasMessageContaining("cpuCores");
    assertThatThrownBy(() -> new CgroupLimits(0, 0, -3)).hasMessageContaining("pids");
  }
}
