package dev.kavach.internal.container;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AgentStatusTest {
  @Test
  void anExit() {
    AgentStatus s = AgentStatus.parse("pid 6\nsubreaper 1 0\nscope 1 7 0\nexit 3\n");
    assertThat(s.pid()).isEqualTo(6);
    assertThat(s.subreaper()).isTrue();
    assertThat(s.scoped()).isTrue();
    assertThat(s.exitCode()).hasValue(3);
    assertThat(s.signal()).isEmpty();
    assertThat(s.finished()).isTrue();
  }

  @Test
  void aSignalAfterAKill() {
    AgentStatus s =
        AgentStatus.parse("pid 13\nsubreaper 0 22\nscope 0 -1 38\nkilled 15\nsignal 9\n");
    assertThat(s.signal()).hasValue(9);
    assertThat(s.subreaper()).isFalse();
    assertThat(s.scoped()).isFalse();
  }

  @Test
  void anExecFailureIsReportedWithItsErrno() {
    AgentStatus s =
        AgentStatus.parse(
            "pid 7\nsubreaper 1 0\nscope 1 7 0\n"
                + "error exec 2 cannot execute nope: No such file or directory\n");
    assertThat(s.execFailed()).isTrue();
    assertThat(s.errorErrno()).isEqualTo(2);
    assertThat(s.errorMessage()).isEqualTo("cannot execute nope: No such file or directory");
  }

  @Test
  void theFirstErrorIsTheCause() {
    AgentStatus s = AgentStatus.parse("error spec 2 /x: gone\nerror exec 2 later\n");
    assertThat(s.errorStep()).isEqualTo("spec");
  }

  @Test
  void anUnfinishedOrEmptyFileIsNotFinished() {
    assertThat(AgentStatus.parse("pid 9\n").finished()).isFalse();
    assertThat(AgentStatus.parse("").pid()).isEqualTo(-1);
  }
}
