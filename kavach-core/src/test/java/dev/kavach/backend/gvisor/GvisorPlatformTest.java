package dev.kavach.backend.gvisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kavach.internal.host.Virtualization;
import java.util.List;
import org.junit.jupiter.api.Test;

class GvisorPlatformTest {
  private static final Virtualization PVM = new Virtualization(true, List.of(), List.of("kvm_pvm"));
  private static final Virtualization VTX =
      new Virtualization(true, List.of("vmx"), List.of("kvm_intel"));

  @Test
  void systrapWinsWhenOffered() {
    assertThat(GvisorBackendProvider.choosePlatform(List.of("kvm", "ptrace", "systrap"), VTX))
        .isEqualTo("systrap");
  }

  @Test
  void kvmOnlyWithHardwareVirtualization() {
    assertThat(GvisorBackendProvider.choosePlatform(List.of("kvm", "ptrace"), VTX))
        .isEqualTo("kvm");
    // This machine kind: /dev/kvm is PVM, which runsc's kvm platform cannot use.
    assertThat(GvisorBackendProvider.choosePlatform(List.of("kvm", "ptrace"), PVM))
        .isEqualTo("ptrace");
  }

  @Test
  void nothingUsableIsNull() {
    assertThat(GvisorBackendProvider.choosePlatform(List.of("kvm"), PVM)).isNull();
  }
}
