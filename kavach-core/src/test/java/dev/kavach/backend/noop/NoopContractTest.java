package dev.kavach.backend.noop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kavach.ExecResult;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Enforcement;
import dev.kavach.testing.BackendContract;
import java.util.List;
import org.junit.jupiter.api.Test;

class NoopContractTest extends BackendContract {
  private final NoopBackendProvider provider = new NoopBackendProvider();

  @Override
  protected BackendProvider provider() {
    return provider;
  }

  @Test
  void runsNothingAndSaysSo() {
    ExecResult r = started().exec(List.of("/bin/sh", "-c", "echo hi; exit 3"));
    assertThat(r.exitCode()).isZero();
    assertThat(r.stdout()).isEmpty();
    assertThat(r.enforcement()).isEqualTo(Enforcement.none("noop"));
    assertThat(r.score().value()).isZero();
    assertThat(provider.description()).contains("runs nothing");
  }
}
