package dev.kavach.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kavach.scanning.QuarantineStore;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kavach quarantine}: review output the externalization gate withheld. */
@Command(
    name = "quarantine",
    mixinStandardHelpOptions = true,
    description = {
      "Review output the externalization gate quarantined (High findings).",
      "Entries live in --dir (default $XDG_STATE_HOME/kavach/quarantine or",
      "~/.local/state/kavach/quarantine), mode 0700, until approved or rejected."
    },
    subcommands = {
      QuarantineCommand.ListEntries.class,
      QuarantineCommand.Show.class,
      QuarantineCommand.Approve.class,
      QuarantineCommand.Reject.class
    })
final class QuarantineCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(
        spec.commandLine(), "missing subcommand (list, show, approve, reject)");
  }

  /** The store option shared by every subcommand. */
  static final class Store {
    @Option(names = "--dir", paramLabel = "DIR", description = "The quarantine directory.")
    @Nullable Path dir;

    QuarantineStore open() {
      return QuarantineStore.at(dir != null ? dir : QuarantineStore.defaultDirectory());
    }
  }

  /** One line of {@code list --json}: the metadata without the findings. */
  static ObjectNode summary(QuarantineStore.Entry e) {
    ObjectNode n = Json.object();
    n.put("id", e.id());
    n.put("sandbox_id", e.sandboxId());
    n.put("agent_id", e.agentId());
    n.put("exec_id", e.execId());
    n.put("quarantined_at", e.time().toString());
    n.put("worst", e.worst().toString());
    n.put("findings", e.findings().size() + e.findingsOmitted());
    return n;
  }

  /** {@code kavach quarantine list}. */
  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "List entries, oldest first.")
  static final class ListEntries implements Callable<Integer> {
    @picocli.CommandLine.Mixin Store store = new Store();

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      var out = spec.commandLine().getOut();
      var entries = store.open().list();
      if (json) {
        ArrayNode a = Json.array();
        entries.forEach(e -> a.add(summary(e)));
        out.println(Json.write(a));
      } else {
        for (QuarantineStore.Entry e : entries) {
          out.printf(
              "%s  %s  %-8s %3d finding(s)  %s%n",
              e.id(), e.time(), e.worst(), e.findings().size() + e.findingsOmitted(), e.execId());
        }
      }
      out.flush();
      return 0;
    }
  }

  /** {@code kavach quarantine show ID}. */
  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = "Print an entry's metadata and findings (masked evidence, never content).")
  static final class Show implements Callable<Integer> {
    @picocli.CommandLine.Mixin Store store = new Store();

    @Parameters(paramLabel = "ID")
    String id;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      // The metadata exactly as stored (masked evidence only, never content).
      spec.commandLine().getOut().println(QuarantineStore.toJsonText(store.open().show(id)));
      spec.commandLine().getOut().flush();
      return 0;
    }
  }

  /** {@code kavach quarantine approve ID}. */
  @Command(
      name = "approve",
      mixinStandardHelpOptions = true,
      description = {
        "Release an entry: its stdout part is written to standard output, its stderr part to",
        "standard error (other parts, copied-out files, to standard output), and the entry is",
        "removed from the store."
      })
  static final class Approve implements Callable<Integer>, IoStreams.NeedsStreams {
    @picocli.CommandLine.Mixin Store store = new Store();

    @Parameters(paramLabel = "ID")
    String id;

    private IoStreams io = new IoStreams(System.out, System.err);

    @Override
    public void streams(IoStreams streams) {
      this.io = streams;
    }

    @Override
    public Integer call() {
      QuarantineStore.Released r = store.open().approve(id);
      for (Map.Entry<String, byte[]> part : r.parts().entrySet()) {
        var stream = part.getKey().equals("stderr") ? io.err() : io.out();
        stream.write(part.getValue(), 0, part.getValue().length);
        stream.flush();
      }
      return 0;
    }
  }

  /** {@code kavach quarantine reject ID}. */
  @Command(name = "reject", mixinStandardHelpOptions = true, description = "Delete an entry.")
  static final class Reject implements Callable<Integer> {
    @picocli.CommandLine.Mixin Store store = new Store();

    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      store.open().reject(id);
      return 0;
    }
  }
}
