package dev.kavach.internal.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.KavachException;
import dev.kavach.testing.Leftovers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class ExecTest {
  private static Exec.Result sh(String script) {
    return Exec.run(Exec.command(List.of("/bin/sh", "-c", script)).build());
  }

  @Test
  void capturesBothStreamsAndTheExitValue() {
    Exec.Result r = sh("printf out; printf err >&2; exit 7");
    assertThat(r.exitValue()).isEqualTo(7);
    assertThat(r.stdoutText()).isEqualTo("out");
    assertThat(r.stderrText()).isEqualTo("err");
    assertThat(r.timedOut()).isFalse();
  }

  @Test
  void environmentIsExactlyWhatWasGiven() {
    Exec.Result r =
        Exec.run(Exec.command(List.of("/usr/bin/env")).env(Map.of("ONLY", "this")).build());
    assertThat(r.stdoutText()).isEqualTo("ONLY=this\n");
  }

  @Test
  void stdinIsDevNullOrTheGivenBytes() {
    assertThat(sh("cat; echo end").stdoutText()).isEqualTo("end\n");
    byte[] big = new byte[5 * 1024 * 1024];
    java.util.Arrays.fill(big, (byte) 'x');
    Exec.Result r = Exec.run(Exec.command(List.of("/bin/sh", "-c", "wc -c")).stdin(big).build());
    assertThat(r.stdoutText().trim()).isEqualTo(Integer.toString(big.length));
  }

  @Test
  void aCommandThatIgnoresStdinDoesNotBlockTheWriter() {
    byte[] big = new byte[8 * 1024 * 1024];
    Exec.Result r = Exec.run(Exec.command(List.of("/bin/true")).stdin(big).build());
    assertThat(r.exitValue()).isZero();
  }

  @Test
  void outputPastTheLimitIsCountedAndDiscarded() {
    Exec.Result r =
        Exec.run(
            Exec.command(List.of("/bin/sh", "-c", "head -c 3000000 /dev/zero"))
                .outputLimit(1000)
                .build());
    assertThat(r.exitValue()).isZero();
    assertThat(r.stdout().bytes()).hasSize(1000);
    assertThat(r.stdout().truncated()).isTrue();
    assertThat(r.stdout().total()).isEqualTo(3_000_000);
  }

  @Test
  void exactlyTheLimitIsNotTruncated() {
    Exec.Result r =
        Exec.run(
            Exec.command(List.of("/bin/sh", "-c", "head -c 1000 /dev/zero"))
                .outputLimit(1000)
                .build());
    assertThat(r.stdout().truncated()).isFalse();
  }

  @Test
  void timeoutKillsChildrenThatIgnoreTermAndKeepsPartialOutput() {
    String marker = "3600." + System.nanoTime() % 1_000_000_000;
    Exec.Result r =
        Exec.run(
            Exec.command(
                    List.of(
                        "/bin/sh",
                        "-c",
                        "echo partial; trap '' TERM; (trap '' TERM; sleep "
                            + marker
                            + ") & sleep "
                            + marker))
                .timeout(Duration.ofMillis(500))
                .build());
    assertThat(r.timedOut()).isTrue();
    assertThat(r.stdoutText()).isEqualTo("partial\n");
    assertThat(Leftovers.processesMatchingAfter(marker, 5000)).isEmpty();
  }

  @Test
  void killStopsARunningCommand() throws Exception {
    Exec.Running running = Exec.start(Exec.command(List.of("/bin/sleep", "30")).build());
    Thread.sleep(100);
    running.kill();
    Exec.Result r = running.await();
    assertThat(r.killed()).isTrue();
    assertThat(r.timedOut()).isFalse();
    assertThat(r.exitValue()).isEqualTo(137);
  }

  @Test
  void aMissingProgramIsALaunchFailure() {
    assertThatThrownBy(() -> Exec.run(Exec.command(List.of("/no/such/program")).build()))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("cannot start /no/such/program")
        .extracting(e -> ((KavachException) e).reason())
        .isEqualTo(KavachException.Reason.LAUNCH_FAILED);
  }

  @Test
  void bytesAreKeptExactly() {
    Exec.Result r = sh("printf '\\000\\377'");
    assertThat(r.stdout().bytes()).containsExactly(0, 0xff);
    assertThat(new String(r.stdout().bytes(), StandardCharsets.ISO_8859_1)).hasSize(2);
  }
}
