package dev.kavach.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kavach.ExecRequest;
import dev.kavach.ExecResult;
import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.audit.AuditChain;
import dev.kavach.audit.AuditKey;
import dev.kavach.audit.AuditSink;
import dev.kavach.audit.ChainedAuditSink;
import dev.kavach.backend.Availability;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Backends;
import dev.kavach.backend.Capability;
import dev.kavach.credential.CredentialProxy;
import dev.kavach.credential.SecretRef;
import dev.kavach.policy.SandboxPolicy;
import dev.kavach.scanning.ExternalizationPolicy;
import dev.kavach.scanning.Finding;
import dev.kavach.scanning.QuarantineStore;
import dev.kavach.scanning.ScanReport;
import dev.kavach.scanning.Verdict;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secrets end to end on a real backend: injected by every method the backend supports, visible to
 * the command, never in any process's command line, never on the host's persistent disk, never in
 * the audit log, and never released when the command prints them, in any common encoding. One
 * subclass per backend.
 */
@Timeout(120)
public abstract class SecretsEndToEnd {
  private static final String HEX_KEY =
      "8f1e2d3c4b5a697887960a5b4c3d2e1f00112233445566778899aabbccddeeff";
  private static final SecureRandom RANDOM = new SecureRandom();

  @TempDir protected Path tmp;

  /** A value that exists nowhere but in this test's memory and what the sandbox is given. */
  protected final String secret = "kv-e2e-" + HexFormat.of().formatHex(randomBytes(12));

  private final Instant started = Instant.now();
  private final List<Sandbox> sandboxes = new ArrayList<>();
  private final CredentialProxy proxy = new CredentialProxy();
  private Path auditLog;
  private ChainedAuditSink chain;

  /** The backend under test. */
  protected abstract BackendProvider provider();

  /** The policy the tests run under. */
  protected SandboxPolicy policy() {
    return SandboxPolicy.minimal();
  }

  /**
   * Command lines inside the sandbox that contain {@code needle}, for runtimes whose processes the
   * host cannot see (gVisor); the host's /proc is always searched as well.
   */
  protected List<String> insideProcesses(Sandbox sandbox, String needle) {
    return List.of();
  }

  /** Whether CI installs this backend's runtime (a skip is then a failure under CI=true). */
  protected boolean installedByCi() {
    return true;
  }

  private boolean supports(Capability c) {
    return provider().capabilities().contains(c);
  }

  @BeforeEach
  void setUp() {
    Availability a = provider().probe();
    if (!a.available() && "true".equals(System.getenv("CI")) && installedByCi()) {
      fail(provider().name() + " must run in CI, but: " + a.reason());
    }
    assumeTrue(a.available(), provider().name() + " unavailable: " + a.reason());
    proxy.register("api_token", secret.getBytes(StandardCharsets.UTF_8));
    auditLog = tmp.resolve("audit.jsonl");
    chain = AuditSink.chained(auditLog, AuditKey.fromHex(HEX_KEY, "test key"));
  }

  @AfterEach
  void tearDown() throws IOException {
    List<String> ids = new ArrayList<>();
    for (Sandbox s : sandboxes) {
      ids.add(s.id());
      s.close();
    }
    if (chain != null) {
      chain.close();
    }
    proxy.close();
    for (String id : ids) {
      assertThat(Leftovers.processesMatchingAfter(id, 5000)).as("processes of " + id).isEmpty();
      try (DirectoryStream<Path> shm = Files.newDirectoryStream(Path.of("/dev/shm"))) {
        for (Path p : shm) {
          assertThat(p.getFileName().toString()).as("run directory left").doesNotContain(id);
        }
      }
    }
  }

  /** A configuration with the suite's policy. */
  protected SandboxConfig.Builder config() {
    return SandboxConfig.builder().policy(policy());
  }

  /** A started sandbox with the secret injected by every method this backend supports. */
  protected Sandbox start(SandboxConfig.Builder b) {
    b.backend(provider().name())
        .credentials(proxy)
        .secret(SecretRef.env("api_token", "API_TOKEN"))
        .quarantine(QuarantineStore.at(tmp.resolve("quarantine")))
        .auditSink(chain);
    if (supports(Capability.SECRET_FILE)) {
      b.secret(SecretRef.file("api_token", "/run/secrets/api_token"));
    }
    if (supports(Capability.SECRET_STDIN)) {
      b.secret(SecretRef.stdin("api_token"));
    }
    Sandbox s = Sandbox.create(b.build(), Backends.of(List.of(provider())));
    sandboxes.add(s);
    s.start();
    return s;
  }

  private Sandbox gated() {
    return start(config().externalization(ExternalizationPolicy.defaults()));
  }

  private static ExecResult sh(Sandbox s, String script) {
    return s.exec(ExecRequest.of("/bin/sh", "-c", script));
  }

  @Test
  void theSecretReachesTheCommandByEveryMethod() throws Exception {
    Sandbox s = start(config());
    String expected = sha256(secret);
    // Hashes prove the command saw the exact value without the test echoing it anywhere.
    ExecResult env = sh(s, "printf %s \"$API_TOKEN\" | sha256sum");
    assertThat(env.stdoutText()).as(env.stderrText()).startsWith(expected);
    if (supports(Capability.SECRET_FILE)) {
      ExecResult file =
          // find -perm rather than stat: coreutils' stat uses statx, which the 2022 gVisor
          // refuses, and busybox's find has no -printf.
          sh(s, "sha256sum < /run/secrets/api_token; find /run/secrets/api_token -perm 0400");
      assertThat(file.stdoutText())
          .as(file.stderrText())
          .startsWith(expected)
          .endsWith("\n/run/secrets/api_token\n");
    }
    if (supports(Capability.SECRET_STDIN)) {
      ExecResult stdin = sh(s, "sha256sum");
      assertThat(stdin.stdoutText()).as(stdin.stderrText()).startsWith(expected);
    }
  }

  @Test
  void anEchoedSecretIsBlockedInEveryEncodingAndEveryStream() {
    Sandbox s = gated();
    List<String> leaks =
        new ArrayList<>(
            List.of(
                "printf %s \"$API_TOKEN\"",
                "echo \"token=$API_TOKEN\" >&2",
                "printf %s \"$API_TOKEN\" | base64",
                "printf 'xy%s' \"$API_TOKEN\" | base64",
                "printf %s \"$API_TOKEN\" | od -An -tx1 | tr -d ' \\n'",
                "printf %s \"$API_TOKEN\" | sed 's/-/%2D/g'"));
    if (supports(Capability.SECRET_FILE)) {
      leaks.add("cat /run/secrets/api_token");
    }
    if (supports(Capability.SECRET_STDIN)) {
      leaks.add("cat");
    }
    for (String leak : leaks) {
      ExecResult r = sh(s, leak);
      ScanReport report = r.scan().orElseThrow();
      assertThat(report.verdict()).as(leak).isEqualTo(Verdict.BLOCK);
      assertThat(r.stdout()).as(leak).isEmpty();
      assertThat(r.stderr()).as(leak).isEmpty();
      assertThat(report.findings())
          .as(leak)
          .anySatisfy(f -> assertThat(f.message()).startsWith("Injected secret api_token"));
      for (Finding f : report.findings()) {
        assertThat(f.evidence()).as(leak).doesNotContain(secret.substring(0, 7));
      }
    }
    // Lesser findings are redacted, and the exit status is the command's.
    ExecResult mail = sh(s, "echo mail bob@example.com; exit 3");
    assertThat(mail.scan().orElseThrow().verdict()).isEqualTo(Verdict.WARN);
    assertThat(mail.stdoutText()).isEqualTo("mail [REDACTED:pii]\n");
    assertThat(mail.exitCode()).isEqualTo(3);
  }

  @Test
  void theSecretIsInNoProcessCommandLineWhileTheCommandRuns() throws Exception {
    Sandbox s = gated();
    String marker = "kv-argv-" + HexFormat.of().formatHex(randomBytes(6));
    CompletableFuture<ExecResult> running =
        CompletableFuture.supplyAsync(
            () -> s.exec(ExecRequest.of("/bin/sh", "-c", "sleep 3", marker)));
    List<String> seen = new ArrayList<>();
    long deadline = System.currentTimeMillis() + 20_000;
    while (seen.isEmpty() && System.currentTimeMillis() < deadline) {
      seen = new ArrayList<>(Leftovers.processesMatching(marker));
      seen.addAll(insideProcesses(s, marker));
      Thread.sleep(20);
    }
    assertThat(seen).as("the command must be seen running").isNotEmpty();
    List<String> withSecret = new ArrayList<>(insideProcesses(s, secret));
    try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path p : procs) {
        byte[] cmdline = read(p.resolve("cmdline"));
        if (contains(cmdline, secret.getBytes(StandardCharsets.UTF_8))) {
          withSecret.add(p.getFileName().toString());
        }
      }
    }
    assertThat(withSecret).as("processes with the secret in argv").isEmpty();
    assertThat(onPersistentDisk()).as("files holding the secret while it runs").isEmpty();
    assertThat(running.get(60, TimeUnit.SECONDS).exitCode()).isZero();
  }

  @Test
  void theSecretNeverReachesPersistentDiskOrTheAuditLog() throws Exception {
    Sandbox s = gated();
    sh(s, "printf %s \"$API_TOKEN\"");
    sh(s, "printf %s \"$API_TOKEN\" > leaked.txt; cp leaked.txt copy.txt");
    assertThat(s.copyOut("leaked.txt").scan().orElseThrow().verdict()).isEqualTo(Verdict.BLOCK);
    // Something High goes to quarantine, which is on disk: it must not carry the secret.
    ExecResult q = sh(s, "echo 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123'");
    assertThat(q.scan().orElseThrow().verdict()).isEqualTo(Verdict.QUARANTINE);
    // The workspace holds what the command wrote there itself; everywhere else is clean.
    Path ws = s.workspace().orElseThrow();
    List<String> found = onPersistentDisk();
    found.removeIf(f -> f.startsWith(ws.toString()));
    assertThat(found).as("files holding the secret outside the workspace").isEmpty();
    s.close();
    chain.close();
    byte[] log = Files.readAllBytes(auditLog);
    assertThat(log.length).isPositive();
    for (byte[] form : forms()) {
      assertThat(contains(log, form)).as("audit log holds a form of the secret").isFalse();
    }
    assertThat(AuditChain.verify(auditLog, AuditKey.fromHex(HEX_KEY, "k")).intact()).isTrue();
    assertThat(new String(log, StandardCharsets.UTF_8))
        .contains("\"gate.decision\"", "\"verdict\":\"block\"", "\"api_token\"");
  }

  @Test
  void copyOutRefusesALinkTheCommandPlanted() throws Exception {
    Sandbox s = gated();
    Path host = Files.writeString(tmp.resolve("host-secret.txt"), "HOST-ONLY-" + secret);
    ExecResult r =
        sh(
            s,
            "ln -s "
                + host
                + " leak && ln -s /etc etc && mkdir d && ln -s ../leak d/leak && echo made");
    assertThat(r.stdoutText()).as(r.stderrText()).isEqualTo("made\n");
    for (String path : new String[] {"leak", "etc/hostname", "d/leak"}) {
      assertThatThrownBy(() -> s.copyOut(path))
          .as(path)
          .hasMessageContaining("is a symbolic link; copyOut never follows links")
          .hasMessageNotContaining("HOST-ONLY");
    }
    sh(s, "echo fine > d/ok");
    assertThat(new String(s.copyOut("d/ok").content(), StandardCharsets.UTF_8)).isEqualTo("fine\n");
  }

  @Test
  void aLinkPlantedAtTheSecretsPathIsReplacedNotFollowed() throws Exception {
    assumeTrue(supports(Capability.SECRET_FILE), "no secrets by file on this backend");
    Sandbox s = start(config());
    // One exec leaves a link where the next exec's secret will be written, pointing into the
    // workspace (the host's disk). Backends that build a read-only view per exec refuse the plant
    // itself; those whose secret directory lives as long as the container must replace the link.
    ExecResult plant =
        sh(
            s,
            "rm -f /run/secrets/api_token && ln -s /workspace/stolen /run/secrets/api_token"
                + " && echo planted");
    assertThat(plant.stdoutText() + plant.stderrText())
        .containsAnyOf("planted\n", "Read-only file system");
    ExecResult next =
        sh(s, "test -L /run/secrets/api_token && echo link || sha256sum < /run/secrets/api_token");
    assertThat(next.stdoutText()).as(next.stderrText()).startsWith(sha256(secret));
    assertThat(s.workspace().orElseThrow().resolve("stolen")).doesNotExist();
  }

  @Test
  void aSecretFileOnHostBackedStorageIsRefusedBeforeTheCommandRuns() {
    assumeTrue(supports(Capability.SECRET_FILE), "no secrets by file on this backend");
    SandboxConfig.Builder b =
        config()
            .backend(provider().name())
            .credentials(proxy)
            .secret(SecretRef.file("api_token", "/workspace/api_token"));
    assertThatThrownBy(
            () -> {
              Sandbox s = Sandbox.create(b.build(), Backends.of(List.of(provider())));
              sandboxes.add(s);
              s.start();
              s.exec(ExecRequest.of("/bin/sh", "-c", "touch /workspace/ran"));
            })
        .hasMessageContaining("/workspace/api_token")
        .hasMessageNotContaining(secret);
    for (Sandbox s : sandboxes) {
      s.workspace().ifPresent(ws -> assertThat(ws.resolve("api_token")).doesNotExist());
      s.workspace().ifPresent(ws -> assertThat(ws.resolve("ran")).doesNotExist());
    }
  }

  /** The secret as it would be written by a careless or hostile command. */
  private List<byte[]> forms() {
    byte[] v = secret.getBytes(StandardCharsets.UTF_8);
    return List.of(
        v,
        Base64.getEncoder().withoutPadding().encode(v),
        HexFormat.of().formatHex(v).getBytes(StandardCharsets.US_ASCII));
  }

  /**
   * Files on persistent storage that hold the secret (raw, base64 or hex): the test's own directory
   * (audit log, quarantine), every sandbox's workspace, and everything under /tmp changed since the
   * test started. /dev/shm is memory; the backends' run directories live there and are checked for
   * removal after destroy.
   */
  private List<String> onPersistentDisk() throws IOException {
    List<Path> roots = new ArrayList<>(List.of(tmp, Path.of("/tmp")));
    for (Sandbox s : sandboxes) {
      s.workspace().ifPresent(roots::add);
    }
    List<String> found = new ArrayList<>();
    List<byte[]> forms = forms();
    for (Path root : roots) {
      try (Stream<Path> files =
          Files.find(
              root,
              12,
              (p, a) -> a.isRegularFile() && recent(a) && a.size() < (16 << 20),
              new FileVisitOption[0])) {
        files.forEach(
            f -> {
              byte[] b = read(f);
              for (byte[] form : forms) {
                if (contains(b, form)) {
                  found.add(f.toString());
                  return;
                }
              }
            });
      } catch (java.io.UncheckedIOException e) {
        // Other users' directories under /tmp may be unreadable or vanish while walked.
      }
    }
    return found;
  }

  private boolean recent(BasicFileAttributes a) {
    return !a.lastModifiedTime().toInstant().isBefore(started.minusSeconds(2));
  }

  private static byte[] read(Path p) {
    try (InputStream in = Files.newInputStream(p)) {
      return in.readAllBytes();
    } catch (IOException e) {
      return new byte[0];
    }
  }

  private static boolean contains(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  private static String sha256(String s) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
  }

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }
}
