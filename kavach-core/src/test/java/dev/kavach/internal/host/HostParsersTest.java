package dev.kavach.internal.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HostParsersTest {
  // This project's machines: v1 limits, a v2 mount with only hugetlb.
  private static final String HYBRID_MOUNTS =
      """
      /dev/vda / ext4 rw,relatime 0 0
      tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0
      cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
      cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0
      cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0
      cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
      cgroup /sys/fs/cgroup/devices cgroup rw,relatime,devices 0 0
      cgroup /sys/fs/cgroup/freezer cgroup rw,relatime,freezer 0 0
      cgroup /sys/fs/cgroup/blkio cgroup rw,relatime,blkio 0 0
      cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0
      cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0
      cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
      """;

  private static final String PURE_V2 =
      "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot 0 0\n";

  private static final String DEBIAN_10_V1 =
      "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0\n"
          + "cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0\n";

  @Test
  void hybridLayoutPutsLimitsOnV1() {
    CgroupLayout c = CgroupLayout.parseMounts(HYBRID_MOUNTS).withV2Controllers("hugetlb\n");
    assertThat(c.mode()).isEqualTo("hybrid");
    assertThat(c.v2Mount()).isEqualTo("/sys/fs/cgroup/unified");
    assertThat(c.v1())
        .containsEntry("memory", "/sys/fs/cgroup/memory")
        .containsEntry("pids", "/sys/fs/cgroup/pids")
        .containsEntry("freezer", "/sys/fs/cgroup/freezer")
        .doesNotContainKey("name=systemd");
    assertThat(c.versionOf("memory")).contains("v1");
    assertThat(c.versionOf("hugetlb")).contains("v2");
    assertThat(c.versionOf("rdma")).isEmpty();
    assertThat(c.hasLimitControllers()).isTrue();
  }

  @Test
  void pureV2() {
    CgroupLayout c =
        CgroupLayout.parseMounts(PURE_V2)
            .withV2Controllers("cpuset cpu io memory hugetlb pids rdma misc");
    assertThat(c.mode()).isEqualTo("v2");
    assertThat(c.versionOf("memory")).contains("v2");
    assertThat(c.hasLimitControllers()).isTrue();
  }

  @Test
  void combinedV1Hierarchies() {
    CgroupLayout c = CgroupLayout.parseMounts(DEBIAN_10_V1);
    assertThat(c.mode()).isEqualTo("v1");
    assertThat(c.v1())
        .containsEntry("cpu", "/sys/fs/cgroup/cpu,cpuacct")
        .containsEntry("cpuacct", "/sys/fs/cgroup/cpu,cpuacct");
    assertThat(c.hasLimitControllers()).isFalse();
  }

  @Test
  void noCgroups() {
    assertThat(CgroupLayout.parseMounts("").mode()).isEqualTo("none");
  }

  @Test
  void procCgroupOfAHybridHost() {
    Map<String, String> m =
        ProcCgroup.parse(
            "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/8b09\n2:cpu,cpuacct:/x\n0::/\n");
    assertThat(m)
        .containsEntry("memory", "/process_api/8b09")
        .containsEntry("cpu", "/x")
        .containsEntry("cpuacct", "/x")
        .containsEntry("", "/")
        .containsEntry("name=systemd", "/");
  }

  @Test
  void seccompStatus() {
    assertThat(SeccompStatus.parse("Name:\tx\nNoNewPrivs:\t0\nSeccomp:\t0\n"))
        .isEqualTo(new SeccompStatus("disabled", false));
    assertThat(SeccompStatus.parse("NoNewPrivs:\t1\nSeccomp:\t2\n"))
        .isEqualTo(new SeccompStatus("filter", true));
    assertThat(SeccompStatus.parse("Seccomp:\t1\n").mode()).isEqualTo("strict");
    assertThat(SeccompStatus.parse("Seccomp:\t99\n").mode()).isEqualTo("unknown");
    assertThat(SeccompStatus.parse("").available()).isFalse();
  }

  @Test
  void pvmIsNotHardwareVirtualization() {
    String cpuinfo = "processor\t: 0\nflags\t\t: fpu vme de pse tsc msr hypervisor lahf_lm\n";
    Virtualization pvm =
        new Virtualization(true, Virtualization.parseCpuFlags(cpuinfo), List.of("kvm_pvm"));
    assertThat(pvm.hardwareKvm()).isFalse();
    assertThat(pvm.explain()).contains("PVM");
    Virtualization vtx =
        new Virtualization(
            true, Virtualization.parseCpuFlags("flags\t: fpu vmx ept\n"), List.of("kvm_intel"));
    assertThat(vtx.hardwareKvm()).isTrue();
    assertThat(new Virtualization(false, List.of("svm"), List.of("kvm_amd")).hardwareKvm())
        .isFalse();
  }
}
