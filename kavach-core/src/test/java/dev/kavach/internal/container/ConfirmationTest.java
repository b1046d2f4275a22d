package dev.kavach.internal.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.KavachException;
import dev.kavach.backend.Enforcement;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class ConfirmationTest {
  private static final int UID = 2113929216;
  private static final Set<String> NS = Set.of("pid", "mount", "ipc", "uts", "cgroup", "net");

  static ContainerPlan plan(
      long memory, double cpu, int pids, boolean readOnly, @Nullable ContainerSeccomp seccomp) {
    return new ContainerPlan(
        "kv-1",
        "kavach-kv-1",
        UID,
        UID,
        "kavach",
        true,
        readOnly,
        memory,
        cpu,
        pids,
        1024,
        0,
        64L << 20,
        List.of(),
        null,
        List.of("/usr"),
        List.of(),
        List.of(),
        List.of(),
        seccomp);
  }

  static String facts() {
    return InsideFactsTest.RUNC.replace("2113929216", Integer.toString(UID));
  }

  static Confirmation.Observed seen(Limits limits) {
    return new Confirmation.Observed(
        limits, NS, AgentStatus.parse("pid 2\nsubreaper 1 0\nscope 1 7 0\nexit 0\n"), List.of());
  }

  @Test
  void reportsWhatWasObserved() {
    Limits l = new Limits(64L << 20, 50000, 100000, 64, 0, Optional.empty());
    Enforcement e =
        Confirmation.confirm(
            "oci-runc",
            plan(64L << 20, 0.5, 64, true, new ContainerSeccomp("strict", "{}", new byte[8])),
            InsideFacts.parse(facts()),
            seen(l),
            false);
    assertThat(e.namespaces()).isEqualTo(NS);
    assertThat(e.networkIsolated()).isTrue();
    assertThat(e.readOnlyRoot()).isTrue();
    assertThat(e.seccompProfile()).isEqualTo("strict");
    assertThat(e.memoryLimitBytes()).isEqualTo(64L << 20);
    assertThat(e.cpuLimit()).isEqualTo(0.5);
    assertThat(e.pidsLimit()).isEqualTo(64);
    assertThat(e.capabilitiesDropped()).isTrue();
    assertThat(e.noNewPrivs()).isTrue();
    assertThat(e.uid()).isEqualTo(UID);
    assertThat(e.landlock()).isFalse();
    assertThat(e.notes()).anyMatch(n -> n.contains("child subreaper"));
  }

  @Test
  void aLimitTheCgroupDoesNotShowStopsTheStart() {
    assertThatThrownBy(
            () ->
                Confirmation.confirm(
                    "oci-runc",
                    plan(64L << 20, 0, 0, true, null),
                    InsideFacts.parse(facts()),
                    seen(Limits.none()),
                    false))
        .isInstanceOf(KavachException.class)
        .extracting(e -> ((KavachException) e).reason())
        .isEqualTo(KavachException.Reason.ENFORCEMENT_FAILED);
  }

  @Test
  void bestEffortNotesWhatIsMissingAndLeavesItOutOfTheReport() {
    Enforcement e =
        Confirmation.confirm(
            "oci-runc",
            plan(64L << 20, 1.0, 0, true, new ContainerSeccomp("basic", "{}", new byte[8])),
            InsideFacts.parse(
                facts()
                    .replace("Seccomp 2", "Seccomp 0")
                    .replace("seccomp-prctl 2", "seccomp-prctl 0")),
            seen(Limits.none()),
            true);
    assertThat(e.seccomp()).isFalse();
    assertThat(e.memoryLimitBytes()).isZero();
    assertThat(e.cpuLimit()).isZero();
    assertThat(e.notes())
        .anyMatch(n -> n.startsWith("not enforced (best effort): seccomp profile basic"))
        .anyMatch(n -> n.startsWith("not enforced (best effort): a memory limit"))
        .anyMatch(n -> n.startsWith("not enforced (best effort): a CPU limit"));
  }

  @Test
  void aNetworkInterfaceBesidesLoopbackIsNotIsolation() {
    assertThatThrownBy(
            () ->
                Confirmation.confirm(
                    "gvisor",
                    plan(0, 0, 0, true, null),
                    InsideFacts.parse(facts() + "\nnetif eth0\n"),
                    seen(Limits.none()),
                    false))
        .hasMessageContaining("network isolation: interfaces [lo, eth0]");
  }

  @Test
  void rootCapabilitiesOrNoNewPrivsAreNeverWaivedEvenBestEffort() {
    String root = facts().replace("uid " + UID + " " + UID, "uid 0 0");
    assertThatThrownBy(
            () ->
                Confirmation.confirm(
                    "oci-runc",
                    plan(0, 0, 0, true, null),
                    InsideFacts.parse(root),
                    seen(Limits.none()),
                    true))
        .hasMessageContaining("runs as uid 0/0");
    String caps = facts().replace("CapBnd 0000000000000000", "CapBnd 00000000a80425fb");
    assertThatThrownBy(
            () ->
                Confirmation.confirm(
                    "oci-runc",
                    plan(0, 0, 0, true, null),
                    InsideFacts.parse(caps),
                    seen(Limits.none()),
                    true))
        .hasMessageContaining("capability sets are not all empty");
    String nnp =
        facts().replace("NoNewPrivs 1", "NoNewPrivs 0").replace("nnp-prctl 1", "nnp-prctl 0");
    assertThatThrownBy(
            () ->
                Confirmation.confirm(
                    "oci-runc",
                    plan(0, 0, 0, true, null),
                    InsideFacts.parse(nnp),
                    seen(Limits.none()),
                    true))
        .hasMessageContaining("no_new_privs is not set");
  }

  @Test
  void aWritableRootIsReportedAsSuchWhenNotRequested() {
    Enforcement e =
        Confirmation.confirm(
            "oci-runc",
            plan(0, 0, 0, false, null),
            InsideFacts.parse(facts().replace("root-readonly 1", "root-readonly 0")),
            seen(Limits.none()),
            false);
    assertThat(e.readOnlyRoot()).isFalse();
  }
}
