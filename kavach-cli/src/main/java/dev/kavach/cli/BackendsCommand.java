package dev.kavach.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.kavach.backend.Availability;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Backends;
import dev.kavach.backend.Capability;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kavach backends}: which backends exist and whether they run on this host. */
@Command(
    name = "backends",
    mixinStandardHelpOptions = true,
    description = "List backends, whether each is available here and why, and its base score.")
final class BackendsCommand implements Callable<Integer>, IoStreams.NeedsStreams {
  @Option(names = "--json", description = "Print as JSON.")
  boolean json;

  private IoStreams io = new IoStreams(System.out, System.err);

  @Override
  public void streams(IoStreams streams) {
    this.io = streams;
  }

  @Override
  public Integer call() {
    List<BackendProvider> providers = Backends.discover().providers();
    List<Availability> probes = new ArrayList<>();
    providers.forEach(p -> probes.add(p.probe()));
    if (json) {
      ArrayNode arr = Json.array();
      for (int i = 0; i < providers.size(); i++) {
        BackendProvider p = providers.get(i);
        ArrayNode caps = Json.array();
        p.capabilities().forEach(c -> caps.add(c.name().toLowerCase(Locale.ROOT)));
        ArrayNode aliases = Json.array();
        p.aliases().forEach(aliases::add);
        arr.addObject()
            .put("name", p.name())
            .put("available", probes.get(i).available())
            .put("reason", probes.get(i).reason())
            .put("base_score", p.baseScore())
            .put("runs_commands", p.capabilities().contains(Capability.RUNS_COMMANDS))
            .put("description", p.description())
            .<com.fasterxml.jackson.databind.node.ObjectNode>set("aliases", aliases)
            .set("capabilities", caps);
      }
      io.out().println(Json.write(arr));
      return 0;
    }
    io.out().printf("%-10s %-9s %4s  %s%n", "BACKEND", "AVAILABLE", "BASE", "REASON");
    for (int i = 0; i < providers.size(); i++) {
      BackendProvider p = providers.get(i);
      io.out()
          .printf(
              "%-10s %-9s %4d  %s%n",
              p.name(),
              probes.get(i).available() ? "yes" : "no",
              p.baseScore(),
              probes.get(i).reason());
    }
    return 0;
  }
}
