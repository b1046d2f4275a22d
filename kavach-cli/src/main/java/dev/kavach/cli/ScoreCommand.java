package dev.kavach.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kavach.ExecResult;
import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Backends;
import dev.kavach.backend.Capability;
import dev.kavach.policy.SandboxPolicy;
import dev.kavach.scoring.Modifier;
import dev.kavach.scoring.Scoring;
import dev.kavach.scoring.StrengthScore;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code kavach score}: the declared score of a backend and policy, and, when the backend runs on
 * this host, the score of what it actually enforces, measured by running {@code /bin/true} in a
 * real sandbox.
 */
@Command(
    name = "score",
    mixinStandardHelpOptions = true,
    description = {
      "Show the strength score of a backend and policy.",
      "declared: what the policy would score if every control were enforced;",
      "enforced: what a real sandbox on this host applied (runs /bin/true in it)."
    })
final class ScoreCommand implements Callable<Integer>, IoStreams.NeedsStreams {
  @Option(
      names = {"-b", "--backend"},
      paramLabel = "BACKEND",
      description = "Backend name (default: process).")
  String backend = "process";

  @Mixin PolicyOptions policy = new PolicyOptions();

  @Option(names = "--declared-only", description = "Do not start a sandbox to measure.")
  boolean declaredOnly;

  @Option(names = "--json", description = "Print as JSON.")
  boolean json;

  private IoStreams io = new IoStreams(System.out, System.err);

  @Override
  public void streams(IoStreams streams) {
    this.io = streams;
  }

  @Override
  public Integer call() {
    SandboxPolicy p = policy.resolve();
    Backends backends = Backends.discover();
    BackendProvider provider =
        backends
            .find(backend)
            .orElseThrow(
                () ->
                    new dev.kavach.backend.BackendUnavailableException(
                        "unknown backend \""
                            + backend
                            + "\" (known: "
                            + String.join(", ", backends.names())
                            + ")",
                        List.of()));
    StrengthScore declared = Scoring.declared(provider, p);
    List<Modifier> declaredMods = Scoring.declaredBreakdown(provider.capabilities(), p);
    ExecResult measured = null;
    String unmeasured = null;
    if (declaredOnly) {
      unmeasured = "not measured (--declared-only)";
    } else if (!provider.capabilities().contains(Capability.RUNS_COMMANDS)) {
      unmeasured = provider.name() + " runs nothing, so it enforces nothing";
    } else if (!provider.probe().available()) {
      unmeasured = provider.name() + " is not available here: " + provider.probe().reason();
    } else {
      try (Sandbox s =
          Sandbox.create(
              SandboxConfig.builder().backend(provider.name()).policy(p).build(), backends)) {
        s.start();
        measured = s.exec(List.of("/bin/true"));
      }
    }
    if (json) {
      ObjectNode n = Json.object();
      n.put("backend", provider.name());
      n.put("base_score", provider.baseScore());
      n.set("declared", Json.score(declared, declaredMods));
      if (measured != null) {
        n.set("enforced", Json.score(measured.score(), Scoring.breakdown(measured.enforcement())));
        n.set("enforcement", Json.enforcement(measured.enforcement()));
      } else {
        n.putNull("enforced");
        n.put("enforced_unavailable", unmeasured);
      }
      io.out().println(Json.write(n));
      return 0;
    }
    io.out().println("backend:  " + provider.name() + " (base " + provider.baseScore() + ")");
    io.out().println("declared: " + declared);
    print(declaredMods);
    if (measured != null) {
      io.out().println("enforced: " + measured.score());
      print(Scoring.breakdown(measured.enforcement()));
      for (String note : measured.enforcement().notes()) {
        io.out().println("  note: " + note);
      }
    } else {
      io.out().println("enforced: " + unmeasured);
    }
    return 0;
  }

  private void print(List<Modifier> mods) {
    for (Modifier m : mods) {
      io.out()
          .printf(
              "  %s %-17s +%d  %s%n", m.counted() ? "[x]" : "[ ]", m.name(), m.points(), m.why());
    }
  }
}
