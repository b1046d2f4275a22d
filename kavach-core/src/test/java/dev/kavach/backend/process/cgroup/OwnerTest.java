package dev.kavach.backend.process.cgroup;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OwnerTest {
  @Test
  void parsesTheStartTimeAfterANameWithSpacesAndParentheses() {
    String stat =
        "14173 (a) b) c) R 1 14173 14173 0 -1 4194304 91 0 0 0 0 0 0 0 20 0 1 0 398280 2498560"
            + " 128 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
    assertThat(Owner.startTicks(stat)).isEqualTo(398280);
    assertThat(Owner.startTicks("1 (x) S 0")).isEqualTo(-1);
  }

  @Test
  void parsesThePidNamespaceLink() {
    assertThat(Owner.pidNamespace("pid:[4026531836]")).isEqualTo(4026531836L);
    assertThat(Owner.pidNamespace("")).isZero();
  }

  @Test
  void roundTripsItsDirectoryName() {
    Owner o = new Owner(4026531836L, 1234, 398280);
    assertThat(o.dirName()).isEqualTo("jvm-4026531836-1234-398280");
    assertThat(Owner.parse(o.dirName())).contains(o);
    assertThat(Owner.parse("kv-1a2b3c")).isEmpty();
    assertThat(Owner.parse("jvm-1-2")).isEmpty();
    assertThat(Owner.parse("jvm-1-2-99999999999999999999999")).isEmpty();
  }

  @Test
  void judgesOnlyOwnersItCanSee() {
    Owner self = Owner.current();
    assertThat(self.pid()).isEqualTo(ProcessHandle.current().pid());
    assertThat(self.startTicks()).isPositive();
    assertThat(self.goneFor(self)).isFalse();
    // The same pid started at another time is a reused pid: the owner is gone.
    assertThat(new Owner(self.pidNamespace(), self.pid(), self.startTicks() + 1).goneFor(self))
        .isTrue();
    // A pid no process has (beyond pid_max).
    assertThat(new Owner(self.pidNamespace(), 1L << 30, 5).goneFor(self)).isTrue();
    // Another pid namespace: its pids mean nothing here, so it is never judged.
    assertThat(new Owner(self.pidNamespace() + 1, 1L << 30, 5).goneFor(self)).isFalse();
    assertThat(new Owner(0, 1L << 30, 5).goneFor(new Owner(0, 1, 1))).isFalse();
  }
}
