package dev.kavach.internal.container;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HostProcessesTest {
  @Test
  void parsesNsPidOutermostFirst() {
    assertThat(HostProcesses.parseNsPid("Name:\tsh\nNSpid:\t18141\t13\nNSsid:\t1\n"))
        .containsExactly(18141L, 13L);
    assertThat(HostProcesses.parseNsPid("Name:\tsh\n")).isEmpty();
  }

  @Test
  void thisJvmSharesItsOwnNamespaces() {
    assertThat(HostProcesses.privateNamespaces(ProcessHandle.current().pid())).isEmpty();
  }
}
