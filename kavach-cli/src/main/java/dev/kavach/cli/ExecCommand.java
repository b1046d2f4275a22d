package dev.kavach.cli;

import dev.kavach.ExecRequest;
import dev.kavach.ExecResult;
import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.policy.SandboxPolicy;
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
      "The argv after -- is passed through untouched; use `sh -c '...'` for shell syntax."
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
      paramLabel = "NAME=proxy:HOST[,HOST]",
      description = {
        "Mask the secret in this process's environment variable NAME (repeatable): the command",
        "sees a placeholder in NAME, and the egress proxy swaps in the real value only in",
        "requests to HOST (TLS to HOST is intercepted with a CA only this sandbox trusts).",
        "Needs --allow-host."
      })
  List<String> secrets = new ArrayList<>();

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
    Secrets.add(b, secrets, System::getenv);
    try (Sandbox sandbox = Sandbox.create(b.build())) {
      sandbox.start();
      ExecResult r = sandbox.exec(ExecRequest.of(command));
      if (json) {
        io.out()
            .println(
                Json.write(
                    Json.result(
                        r,
                        Json.score(r.score(), Scoring.breakdown(r.enforcement())),
                        Json.score(
                            sandbox.declaredScore(),
                            Scoring.declaredBreakdown(sandbox.capabilities(), p)))));
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
      }
      return exitCode(r);
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
