package dev.kavach.internal.host;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HostProbeTest {
  @Test
  void readsProcSysFilesCompletely() {
    // Files.readAllBytes truncates some sysctl files; the reader must not.
    String max = HostProbe.read("/proc/sys/user/max_user_namespaces").trim();
    assertThat(max).matches("[0-9]+");
    assertThat(max).isEqualTo(HostProbe.read("/proc/sys/user/max_user_namespaces").trim());
    assertThat(HostProbe.read("/no/such/file")).isEmpty();
  }

  @Test
  void findsExecutablesByAbsolutePathOnly() {
    HostProbe host = HostProbe.system();
    assertThat(host.which("sh")).hasValueSatisfying(p -> assertThat(p).isAbsolute());
    assertThat(host.which("no-such-binary-kavach")).isEmpty();
    assertThat(host.which("/etc/passwd")).isEmpty(); // not executable
    assertThat(host.which("/tmp")).isEmpty(); // a directory is not a program
  }

  @Test
  void reportsThisHost() {
    HostProbe host = HostProbe.system();
    assertThat(host.uid()).isGreaterThanOrEqualTo(0);
    assertThat(host.kernelRelease()).isNotEmpty();
    assertThat(host.cgroups().mode()).isIn("v1", "v2", "hybrid", "none");
  }
}
