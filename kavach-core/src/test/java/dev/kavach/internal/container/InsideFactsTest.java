package dev.kavach.internal.container;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class InsideFactsTest {
  static final String RUNC =
      String.join(
          "\n",
          "uid 2113929216 2113929216",
          "gid 2113929216 2113929216",
          "NoNewPrivs 1",
          "Seccomp 2",
          "Seccomp_filters 1",
          "CapInh 0000000000000000",
          "CapPrm 0000000000000000",
          "CapEff 0000000000000000",
          "CapBnd 0000000000000000",
          "CapAmb 0000000000000000",
          "nnp-prctl 1",
          "seccomp-prctl 2",
          "netif lo",
          "root-readonly 1",
          "landlock-abi 7",
          "init kavach-agent-oc",
          "hostname kavach",
          "nofile 1024 1024",
          "release 746965723d646d7665726974790a",
          "");

  // gVisor: no NoNewPrivs and no CapAmb line in /proc/self/status.
  static final String GVISOR =
      String.join(
          "\n",
          "uid 2113929216 2113929216",
          "Seccomp 0",
          "CapInh 0000000000000000",
          "CapPrm 0000000000000000",
          "CapEff 0000000000000000",
          "CapBnd 0000000000000000",
          "nnp-prctl 1",
          "seccomp-prctl 0",
          "netif lo",
          "root-readonly 1",
          "landlock-abi 0",
          "release-missing 2");

  @Test
  void parsesWhatTheProbePrints() {
    InsideFacts f = InsideFacts.parse(RUNC);
    assertThat(f.uid()).isEqualTo(2113929216);
    assertThat(f.noNewPrivs()).hasValue(1);
    assertThat(f.noNewPrivsConfirmed()).isTrue();
    assertThat(f.seccompFilterConfirmed()).isTrue();
    assertThat(f.noCapabilities()).isTrue();
    assertThat(f.onlyLoopback()).isTrue();
    assertThat(f.rootReadOnly()).isTrue();
    assertThat(f.landlockAbi()).isEqualTo(7);
    assertThat(f.nofile()).isEqualTo(1024);
    assertThat(f.release()).hasValue("tier=dmverity\n");
  }

  @Test
  void gvisorConfirmsNoNewPrivsByPrctlAndAmbientByImplication() {
    InsideFacts f = InsideFacts.parse(GVISOR);
    assertThat(f.noNewPrivs()).isEmpty();
    assertThat(f.noNewPrivsConfirmed()).isTrue();
    assertThat(f.noCapabilities()).isTrue();
    assertThat(f.seccompFilterConfirmed()).isFalse();
    assertThat(f.release()).isEmpty();
  }

  @Test
  void anyCapabilityOrAMissingSetIsNotNoCapabilities() {
    assertThat(
            InsideFacts.parse(RUNC.replace("CapBnd 0000000000000000", "CapBnd 00000000a80425fb"))
                .noCapabilities())
        .isFalse();
    assertThat(InsideFacts.parse(RUNC.replace("CapEff 0000000000000000\n", "")).noCapabilities())
        .isFalse();
  }

  @Test
  void anInterfaceBesidesLoopbackIsNotIsolated() {
    assertThat(InsideFacts.parse(RUNC + "netif eth0\n").onlyLoopback()).isFalse();
  }

  @Test
  void noNewPrivsZeroIsNotConfirmed() {
    InsideFacts f =
        InsideFacts.parse(
            RUNC.replace("NoNewPrivs 1", "NoNewPrivs 0").replace("nnp-prctl 1", "nnp-prctl 0"));
    assertThat(f.noNewPrivsConfirmed()).isFalse();
  }
}
