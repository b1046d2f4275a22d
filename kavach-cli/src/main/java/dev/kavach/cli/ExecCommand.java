package dev.kavach.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kavach.ExecRequest;
import dev.kavach.ExecResult;
import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.audit.AuditChain;
import dev.kavach.audit.AuditKey;
import dev.kavach.audit.AuditSink;
import dev.kavach.audit.ChainedAuditSink;
import dev.kavach.credential.CredentialProxy;
import dev.kavach.policy.SandboxPolicy;
import dev.kavach.scanning.ExternalizationPolicy;
import dev.kavach.scanning.QuarantineStore;
import dev.kavach.scanning.ScanReport;
import dev.kavach.scoring.Scoring;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kavach exec}: run one command in a fresh sandbox. */
@Command(
    name = "exec",
    mixinStandardHelpOptions = true,
    description = {
      "Run CMD with ARGS in a new sandbox, then destroy it.",
      "The argv after -- is passed through untouched; use `sh -c '...'` for shell syntax.",
      "Exit status: the command's own, also when the gate withheld its output (a line on",
      "stderr says so); 124 timeout; 128+N signal N; 125 kavach error; 2 usage error."
    })
final class ExecCommand implements Callable<Integer>, IoStreams.NeedsStreams {
  @Option(
      names = {"-b", "--backend"},
      paramLabel = "BACKEND",
      description = "Backend name (see `kavach backends`), or auto for the strongest available.")
  String backend = "process";

  @Mixin PolicyOptions policy = new PolicyOptions();

  @Option(
      names = {"-t", "--timeout"},
      paramLabel = "DURATION",
      converter = Durations.class,
      description = "Wall-clock limit, e.g. 500ms, 30s, 2m (default: 30s).")
  @Nullable Duration timeout;

  @Option(
      names = {"-e", "--env"},
      paramLabel = "K=V",
      description = "Set an environment variable for the command (repeatable).")
  Map<String, String> env = new java.util.LinkedHashMap<>();

  @Option(
      names = "--workdir",
      paramLabel = "DIR",
      description = "Host directory to mount read-write at /workspace (default: a fresh one).")
  @Nullable Path workdir;

  @Option(
      names = "--secret",
      paramLabel = "NAME=HOW",
      description = {
        "Inject a secret (repeatable). HOW is env:VAR (environment variable VAR),",
        "file:/path/in/sandbox[:MODE] (a file in memory inside the sandbox, octal mode,",
        "default 0400), stdin (standard input), or proxy:HOST[,HOST] (masked: the command sees",
        "a placeholder in NAME and the egress proxy swaps in the value only for HOST; needs",
        "--allow-host). The value comes from --secret-from NAME=...; a proxy secret without",
        "one takes this process's environment variable NAME."
      })
  List<String> secrets = new ArrayList<>();

  @Option(
      names = "--secret-from",
      paramLabel = "NAME=SOURCE",
      description = {
        "Where the value of secret NAME comes from (repeatable): env:HOSTVAR (this process's",
        "environment) or file:HOSTPATH (a host file, at most 1 MiB). Values never appear in",
        "argv, audit events or findings."
      })
  List<String> secretSources = new ArrayList<>();

  @Option(
      names = "--gate",
      negatable = true,
      description = {
        "Scan the output before releasing it (--no-gate: don't). Default: on for the strict",
        "policy, off otherwise. Critical findings (an injected secret, a private key, an AWS",
        "key) block the output, High ones quarantine it, lesser ones are redacted."
      })
  @Nullable Boolean gate;

  @Option(
      names = "--quarantine-dir",
      paramLabel = "DIR",
      description =
          "Where quarantined output is kept (default: $XDG_STATE_HOME/kavach/quarantine or"
              + " ~/.local/state/kavach/quarantine).")
  @Nullable Path quarantineDir;

  @Option(
      names = "--audit",
      paramLabel = "FILE",
      description = {
        "Append this run's audit events to the HMAC chain in FILE (created 0600; an existing",
        "chain is verified first). Key: --audit-key-file, else KAVACH_AUDIT_KEY (hex, at least",
        "64 digits). The chain's head (SERIAL:MAC) is printed at the end: keep it elsewhere",
        "for `kavach audit verify --head`."
      })
  @Nullable Path audit;

  @Option(
      names = "--audit-key-file",
      paramLabel = "FILE",
      description = "File holding the audit key in hex (instead of KAVACH_AUDIT_KEY).")
  @Nullable Path auditKeyFile;

  @Option(names = "--json", description = "Print the result, enforcement and score as JSON.")
  boolean json;

  @Parameters(paramLabel = "CMD", arity = "1..*", description = "The command and its arguments.")
  List<String> command = new ArrayList<>();

  private IoStreams io = new IoStreams(System.out, System.err);

  @Override
  public void streams(IoStreams streams) {
    this.io = streams;
  }

  @Override
  public Integer call() {
    SandboxPolicy p = policy.resolve();
    SandboxConfig.Builder b = SandboxConfig.builder().backend(backend).policy(p);
    if (timeout != null) {
      b.timeout(timeout);
    }
    env.forEach(b::env);
    if (workdir != null) {
      b.workdir(workdir);
    }
    if (gate != null) {
      b.externalization(gate ? ExternalizationPolicy.defaults() : ExternalizationPolicy.disabled());
    }
    if (quarantineDir != null) {
      b.quarantine(QuarantineStore.at(quarantineDir));
    }
    try (Resources res = new Resources()) {
      res.proxy = Secrets.add(b, secrets, secretSources, System::getenv);
      if (audit != null) {
        AuditKey key =
            auditKeyFile != null ? AuditKey.fromFile(auditKeyFile) : AuditKey.fromEnvironment();
        res.key = key;
        res.chain = AuditSink.chained(audit, key);
        b.auditSink(res.chain);
      }
      ExecResult r;
      ObjectNode declared;
      try (Sandbox sandbox = Sandbox.create(b.build())) {
        sandbox.start();
        r = sandbox.exec(ExecRequest.of(command));
        declared =
            Json.score(
                sandbox.declaredScore(), Scoring.declaredBreakdown(sandbox.capabilities(), p));
      }
      // After destroy: its event is in the chain too.
      AuditChain.Head head = res.chain == null ? null : res.chain.head();
      if (json) {
        ObjectNode n =
            Json.result(r, Json.score(r.score(), Scoring.breakdown(r.enforcement())), declared);
        if (head != null) {
          n.put("audit_head", head.toString());
        }
        io.out().println(Json.write(n));
      } else {
        io.out().write(r.stdout(), 0, r.stdout().length);
        io.err().write(r.stderr(), 0, r.stderr().length);
        io.out().flush();
        io.err().flush();
        if (r.stdoutTruncated() || r.stderrTruncated()) {
          io.err().println("kavach: output truncated at the per-stream cap");
        }
        if (r.timedOut()) {
          io.err().println("kavach: timed out after " + r.duration().toMillis() + " ms");
        }
        r.scan().ifPresent(s -> describe(s, io));
        if (head != null) {
          io.err().println("kavach: audit head " + head);
        }
      }
      return exitCode(r);
    }
  }

  /** One stderr line when the gate changed the output. */
  private static void describe(ScanReport s, IoStreams io) {
    String counts = s.findings().size() + " finding(s), worst " + s.worst();
    switch (s.verdict()) {
      case BLOCK ->
          io.err().println("kavach: output blocked by the gate: " + counts + " (see --json)");
      case QUARANTINE ->
          io.err()
              .println(
                  "kavach: output quarantined as "
                      + s.quarantineId()
                      + ": "
                      + counts
                      + " (kavach quarantine show "
                      + s.quarantineId()
                      + ")");
      case WARN -> io.err().println("kavach: gate: " + counts);
      default -> {}
    }
  }

  /** What a run holds that must be released in any case: secret values, the key, the log. */
  private static final class Resources implements AutoCloseable {
    @Nullable CredentialProxy proxy;
    @Nullable AuditKey key;
    @Nullable ChainedAuditSink chain;

    @Override
    public void close() {
      try {
        if (chain != null) {
          chain.close();
        }
      } finally {
        if (proxy != null) {
          proxy.close();
        }
        if (key != null) {
          key.destroy();
        }
      }
    }
  }

  static int exitCode(ExecResult r) {
    if (r.timedOut()) {
      return Main.TIMED_OUT;
    }
    if (r.signal().isPresent()) {
      return 128 + r.signal().getAsInt();
    }
    return r.exitCode() & 0xff;
  }
}
