package dev.kavach;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.KavachException.Reason;
import dev.kavach.audit.AuditEvent;
import dev.kavach.audit.AuditSink;
import dev.kavach.audit.MemoryAuditSink;
import dev.kavach.backend.Backends;
import dev.kavach.backend.Capability;
import dev.kavach.backend.ExecSpec;
import dev.kavach.credential.SecretRef;
import dev.kavach.policy.SandboxPolicy;
import dev.kavach.testing.FakeBackendProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SandboxLifecycleTest {
  private final FakeBackendProvider fake = FakeBackendProvider.full("fake", 50);
  private final MemoryAuditSink audit = AuditSink.inMemory();

  private Sandbox create() {
    return create(SandboxConfig.builder().backend("fake"));
  }

  private final List<Sandbox> created = new ArrayList<>();

  private Sandbox create(SandboxConfig.Builder b) {
    Sandbox s = Sandbox.create(b.auditSink(audit).build(), Backends.of(List.of(fake)));
    created.add(s);
    return s;
  }

  @AfterEach
  void everyWorkspaceIsRemoved() {
    for (Sandbox s : created) {
      Optional<Path> ws = s.workspace();
      s.close();
      ws.ifPresent(p -> assertThat(p).doesNotExist());
    }
  }

  /** Drives a fresh sandbox to a state through allowed transitions. */
  private Sandbox in(SandboxState state) {
    Sandbox s = create();
    switch (state) {
      case CREATED -> {}
      case RUNNING -> s.start();
      case PAUSED -> {
        s.start();
        s.pause();
      }
      case STOPPED -> {
        s.start();
        s.stop();
      }
      case DESTROYED -> s.destroy();
    }
    assertThat(s.state()).isEqualTo(state);
    return s;
  }

  private static final Map<SandboxState, Consumer<Sandbox>> OPS =
      Map.of(
          SandboxState.RUNNING,
          s -> {
            if (s.state() == SandboxState.PAUSED) {
              s.resume();
            } else {
              s.start();
            }
          },
          SandboxState.PAUSED,
          Sandbox::pause,
          SandboxState.STOPPED,
          Sandbox::stop,
          SandboxState.DESTROYED,
          Sandbox::destroy);

  @Test
  void everyPairOfStatesIsAllowedOrRefusedAsTheTableSays() {
    for (SandboxState from : SandboxState.values()) {
      for (SandboxState to : OPS.keySet()) {
        Sandbox s = in(from);
        if (from.canTransitionTo(to)) {
          OPS.get(to).accept(s);
          assertThat(s.state()).as(from + " -> " + to).isEqualTo(to);
        } else {
          assertThatThrownBy(() -> OPS.get(to).accept(s))
              .as(from + " -> " + to)
              .isInstanceOf(KavachException.class)
              .satisfies(
                  e -> {
                    assertThat(((KavachException) e).reason()).isEqualTo(Reason.INVALID_TRANSITION);
                    assertThat(e.getMessage()).contains(from.toString()).contains(to.toString());
                  });
          assertThat(s.state()).isEqualTo(from);
        }
        s.close();
      }
    }
  }

  @Test
  void resumeFromRunningIsRefused() {
    Sandbox s = in(SandboxState.RUNNING);
    assertThatThrownBy(s::resume).hasMessageContaining("cannot go from running to running");
  }

  @Test
  void destroyFromCreatedReleasesTheBackend() {
    Sandbox s = in(SandboxState.CREATED);
    s.destroy();
    assertThat(fake.opened.get(0).calls).containsExactly("stop", "destroy");
  }

  @Test
  void destroyRemovesTheOwnedWorkspace() {
    Sandbox s = in(SandboxState.RUNNING);
    Path ws = s.workspace().orElseThrow();
    assertThat(ws).isDirectory();
    s.destroy();
    assertThat(ws).doesNotExist();
  }

  @Test
  void failedStartReleasesEverythingAndStaysCreated() {
    fake.failStart(new KavachException(Reason.ENFORCEMENT_FAILED, "seccomp: EINVAL"));
    Sandbox s = create();
    assertThatThrownBy(s::start).hasMessage("seccomp: EINVAL");
    assertThat(s.state()).isEqualTo(SandboxState.CREATED);
    assertThat(fake.opened.get(0).calls).containsExactly("start", "destroy");
    assertThat(fake.opened.get(0).workspace).doesNotExist();
    assertThat(audit.types()).containsExactly("created", "error");
  }

  @Test
  void pauseNeedsTheCapability() {
    FakeBackendProvider noPause =
        new FakeBackendProvider("nopause", 50, EnumSet.of(Capability.RUNS_COMMANDS));
    Sandbox s =
        Sandbox.create(
            SandboxConfig.builder()
                .backend("nopause")
                .policy(
                    SandboxPolicy.minimal().toBuilder()
                        .network(dev.kavach.policy.NetworkPolicy.unrestricted())
                        .build())
                .build(),
            Backends.of(List.of(noPause)));
    s.start();
    assertThatThrownBy(s::pause)
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("cannot pause");
    assertThat(s.state()).isEqualTo(SandboxState.RUNNING);
    s.close();
  }

  @Test
  void lifecycleEventsAreAudited() {
    Clock clock = Clock.fixed(Instant.parse("2026-11-30T10:00:00Z"), ZoneOffset.UTC);
    Sandbox s = create(SandboxConfig.builder().backend("fake").agentId("agent-7").clock(clock));
    s.start();
    s.exec(List.of("echo", "hi"));
    s.pause();
    s.resume();
    s.stop();
    s.destroy();
    assertThat(audit.types())
        .containsExactly(
            "created",
            "started",
            "exec.start",
            "exec.end",
            "paused",
            "resumed",
            "stopped",
            "destroyed");
    AuditEvent end = audit.events().get(3);
    assertThat(end.sandboxId()).isEqualTo(s.id());
    assertThat(end.agentId()).isEqualTo("agent-7");
    assertThat(end.time()).isEqualTo(clock.instant());
    assertThat(end.details()).containsEntry("exit_code", 0).containsKey("score");
  }

  @Test
  void execAssemblesTheEnvironmentInOrder() {
    Sandbox s =
        create(SandboxConfig.builder().backend("fake").env("A", "config").env("B", "config"));
    s.start();
    s.exec(ExecRequest.builder("true").env("B", "request").build());
    ExecSpec spec = fake.opened.get(0).specs.get(0);
    assertThat(spec.env())
        .containsEntry("PATH", Sandbox.DEFAULT_PATH)
        .containsEntry("HOME", "/workspace")
        .containsEntry("A", "config")
        .containsEntry("B", "request")
        .doesNotContainKey("KAVACH_TEST_HOST_MARKER");
    assertThat(spec.timeout()).isEqualTo(SandboxConfig.DEFAULT_TIMEOUT);
    assertThat(spec.outputLimit()).isEqualTo(SandboxConfig.DEFAULT_OUTPUT_LIMIT);
    s.close();
  }

  @Test
  void secretsAreInjectedByEachMethodAndWipedAfterwards() {
    byte[] token = "tok-123".getBytes(StandardCharsets.UTF_8);
    byte[] key = "key-456".getBytes(StandardCharsets.UTF_8);
    byte[] pin = "9876".getBytes(StandardCharsets.UTF_8);
    List<byte[]> handedOut = new ArrayList<>();
    Sandbox s =
        create(
            SandboxConfig.builder()
                .backend("fake")
                .secret(SecretRef.env("token", "API_TOKEN"))
                .secret(SecretRef.file("key", "/run/secrets/key"))
                .secret(SecretRef.stdin("pin"))
                .credentials(
                    name -> {
                      byte[] v =
                          switch (name) {
                            case "token" -> token.clone();
                            case "key" -> key.clone();
                            case "pin" -> pin.clone();
                            default -> null;
                          };
                      if (v != null) {
                        handedOut.add(v);
                      }
                      return Optional.ofNullable(v);
                    }));
    s.start();
    s.exec(ExecRequest.builder("cat").stdin("more").build());
    ExecSpec spec = fake.opened.get(0).specs.get(0);
    assertThat(spec.env()).containsEntry("API_TOKEN", "tok-123");
    assertThat(spec.secretFiles()).hasSize(1);
    assertThat(spec.secretFiles().get(0).path()).isEqualTo("/run/secrets/key");
    assertThat(spec.secretFiles().get(0).mode()).isEqualTo(0400);
    // Wiped once the exec returned: the backend must not keep references.
    assertThat(spec.stdin()).containsOnly(0);
    assertThat(handedOut).allSatisfy(b -> assertThat(b).containsOnly(0));
    assertThat(audit.events().get(2).details().get("secrets"))
        .isEqualTo(List.of("token", "key", "pin"));
    assertThat(audit.events().toString()).doesNotContain("tok-123", "key-456", "9876");
    s.close();
  }

  @Test
  void stdinSecretsComeBeforeRequestInput() {
    List<String> seen = new ArrayList<>();
    fake.answer(
        spec -> {
          seen.add(new String(spec.stdin(), StandardCharsets.UTF_8));
          return FakeBackendProvider.ok(spec);
        });
    Sandbox s =
        create(
            SandboxConfig.builder()
                .backend("fake")
                .secret(SecretRef.stdin("a"))
                .secret(SecretRef.stdin("b"))
                .credentials(n -> Optional.of(("v-" + n).getBytes(StandardCharsets.UTF_8))));
    s.start();
    s.exec(List.of("cat"));
    s.exec(ExecRequest.builder("cat").stdin("input").build());
    assertThat(seen).containsExactly("v-a\nv-b", "v-a\nv-b\ninput");
    s.close();
  }

  @Test
  void anUnknownSecretFailsAtCreateBeforeAnythingIsAllocated() {
    SandboxConfig config =
        SandboxConfig.builder()
            .backend("fake")
            .secret(SecretRef.env("missing", "X"))
            .credentials(n -> Optional.empty())
            .auditSink(audit)
            .build();
    assertThatThrownBy(() -> Sandbox.create(config, Backends.of(List.of(fake))))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("secret missing is not registered")
        .extracting(e -> ((KavachException) e).reason())
        .isEqualTo(Reason.CREDENTIAL);
    assertThat(fake.opened).isEmpty();
  }

  @Test
  void aSecretRemovedAfterCreateFailsBeforeTheCommandRuns() {
    dev.kavach.credential.CredentialProxy proxy = new dev.kavach.credential.CredentialProxy();
    proxy.register("token", "tok-123".getBytes(StandardCharsets.UTF_8));
    Sandbox s =
        create(
            SandboxConfig.builder()
                .backend("fake")
                .secret(SecretRef.env("token", "X"))
                .credentials(proxy));
    s.start();
    proxy.remove("token");
    assertThatThrownBy(() -> s.exec(List.of("true")))
        .hasMessageContaining("secret token is not registered");
    assertThat(fake.opened.get(0).calls).doesNotContain("exec");
    s.close();
  }

  @Test
  void aSecretMethodTheBackendLacksFailsAtCreate() {
    FakeBackendProvider envOnly =
        new FakeBackendProvider(
            "envonly",
            50,
            EnumSet.of(
                Capability.RUNS_COMMANDS,
                Capability.SECRET_ENV,
                Capability.SECCOMP,
                Capability.NETWORK_ISOLATION));
    SandboxConfig config =
        SandboxConfig.builder()
            .backend("envonly")
            .secret(SecretRef.file("k", "/run/k"))
            .credentials(n -> Optional.empty())
            .build();
    assertThatThrownBy(() -> Sandbox.create(config, Backends.of(List.of(envOnly))))
        .hasMessageContaining("cannot inject secret k")
        .extracting(e -> ((KavachException) e).reason())
        .isEqualTo(Reason.CREDENTIAL);
  }

  @Test
  void secretsWithoutASourceAreRejected() {
    assertThatThrownBy(() -> SandboxConfig.builder().secret(SecretRef.env("k", "K")).build())
        .hasMessageContaining("no credential source");
  }

  @Test
  void concurrentExecsAreAllServed() throws Exception {
    Sandbox s = in(SandboxState.RUNNING);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<ExecResult>> fs = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        String n = "n" + i;
        fs.add(pool.submit(() -> s.exec(List.of("echo", n))));
      }
      for (int i = 0; i < 100; i++) {
        assertThat(fs.get(i).get().stdoutText()).isEqualTo("echo n" + i);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(fake.opened.get(fake.opened.size() - 1).specs).hasSize(100);
    s.close();
  }

  @Test
  void closeIsIdempotent() {
    Sandbox s = in(SandboxState.RUNNING);
    s.close();
    s.close();
    assertThat(s.state()).isEqualTo(SandboxState.DESTROYED);
  }

  @Test
  void scoreComesFromEnforcementNotThePolicy() {
    Sandbox s = create(SandboxConfig.builder().backend("fake").policy(SandboxPolicy.strict()));
    s.start();
    ExecResult r = s.exec(List.of("true"));
    // The fake reports only seccomp and network isolation: 50 + 5 + 5.
    assertThat(r.score().value()).isEqualTo(60);
    assertThat(s.declaredScore().value()).isEqualTo(65);
    s.close();
  }

  @Test
  void idsAreUniqueAndShaped() {
    assertThat(create().id()).matches("kv-[0-9a-f]{12}").isNotEqualTo(create().id());
  }

  @Test
  void execShellUsesBinSh() {
    Sandbox s = in(SandboxState.RUNNING);
    s.execShell("echo $HOME && ls");
    assertThat(fake.opened.get(0).specs.get(0).argv())
        .containsExactly("/bin/sh", "-c", "echo $HOME && ls");
    s.close();
  }
}
