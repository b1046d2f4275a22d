package dev.kavach.backend.tee;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kavach.backend.Availability;
import dev.kavach.internal.guest.FakeGuestHost;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SgxProbeTest {
  private static FakeGuestHost sgxHost() {
    FakeGuestHost h =
        FakeGuestHost.intelKvm()
            .withFile("/proc/cpuinfo", "processor : 0\nflags : fpu vmx sgx sgx_lc avx\n")
            .withFile("/dev/sgx_enclave", "");
    for (String t : SgxProbe.TOOLS) {
      h.withTool(t);
    }
    return h;
  }

  @Test
  void availableWithLaunchControlDriverAndGramine() {
    Availability a = SgxProbe.probe(sgxHost().withFile("/var/run/aesmd/aesm.socket", ""));
    assertThat(a.available()).isTrue();
    assertThat(a.reason())
        .isEqualTo(
            "SGX with launch control, /dev/sgx_enclave, Gramine at /usr/bin/gramine-sgx,"
                + " aesmd running");
    assertThat(SgxProbe.probe(sgxHost()).reason())
        .endsWith("; aesmd not running: no remote attestation");
  }

  @Test
  void aDeviceNodeAloneIsNotSupport() {
    FakeGuestHost h =
        new FakeGuestHost()
            .withFile("/dev/sgx_enclave", "")
            .withFile("/proc/cpuinfo", "flags : fpu avx\n");
    Availability a = SgxProbe.probe(h);
    assertThat(a.available()).isFalse();
    assertThat(a.reason().split("; "))
        .containsExactly(
            "the CPU does not advertise SGX (no sgx flag in /proc/cpuinfo)",
            "gramine-sgx not found (install Gramine)",
            "gramine-manifest not found (install Gramine)",
            "gramine-sgx-sign not found (install Gramine)",
            "gramine-sgx-gen-private-key not found (install Gramine)",
            "aesmd not running (no /var/run/aesmd/aesm.socket, needed for remote attestation only)");
  }

  @Test
  void sgxWithoutLaunchControlIsNamed() {
    FakeGuestHost h = sgxHost().withFile("/proc/cpuinfo", "flags : sgx\n");
    assertThat(SgxProbe.probe(h).reason())
        .startsWith("the CPU has SGX without flexible launch control (no sgx_lc flag)");
  }

  @Test
  void resolvesArgv0OnTheCommandsPath() {
    assertThat(SgxBackend.resolve("sh", Map.of("PATH", "/nonexistent:/bin"))).isPresent();
    assertThat(SgxBackend.resolve("no-such-kavach-tool", Map.of("PATH", "/bin"))).isEmpty();
  }

  @Test
  void onThisHostTheProbeSaysWhatIsMissing() {
    Availability a = new SgxBackendProvider().probe();
    if (!a.available()) {
      assertThat(a.reason()).containsAnyOf("SGX", "sgx", "Gramine");
    }
  }
}
