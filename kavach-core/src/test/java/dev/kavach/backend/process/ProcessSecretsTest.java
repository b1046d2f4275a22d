package dev.kavach.backend.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kavach.ExecRequest;
import dev.kavach.ExecResult;
import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.BackendProvider;
import dev.kavach.policy.SandboxPolicy;
import dev.kavach.scanning.ExternalizationPolicy;
import dev.kavach.scanning.Verdict;
import dev.kavach.testing.SecretsEndToEnd;
import org.junit.jupiter.api.Test;

/**
 * The secrets suite on the process backend: environment, file (tmpfs inside the sandbox) and
 * standard input, under the {@code minimal} preset with the gate set explicitly, plus the strict
 * preset, where the gate is on without asking.
 */
class ProcessSecretsTest extends SecretsEndToEnd {
  private final ProcessBackendProvider provider = new ProcessBackendProvider();

  @Override
  protected BackendProvider provider() {
    return provider;
  }

  @Test
  void theStrictPresetGatesOutputWithoutBeingAsked() {
    Sandbox s = start(SandboxConfig.builder().policy(SandboxPolicy.strict()));
    assertThat(s.config().externalization()).isEqualTo(ExternalizationPolicy.defaults());
    ExecResult r = s.exec(ExecRequest.of("/bin/sh", "-c", "cat /run/secrets/api_token"));
    assertThat(r.scan().orElseThrow().verdict()).isEqualTo(Verdict.BLOCK);
    assertThat(r.stdout()).isEmpty();
  }
}
