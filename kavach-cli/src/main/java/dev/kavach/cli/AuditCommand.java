package dev.kavach.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kavach.audit.AuditChain;
import dev.kavach.audit.AuditKey;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kavach audit verify}: check a tamper-evident audit log. */
@Command(
    name = "audit",
    mixinStandardHelpOptions = true,
    description = "Work with tamper-evident audit logs (written by `kavach exec --audit`).",
    subcommands = {AuditCommand.Verify.class})
final class AuditCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(
        spec.commandLine(), "missing subcommand (verify)");
  }

  /** {@code kavach audit verify FILE [--head SERIAL:MAC]}. */
  @Command(
      name = "verify",
      mixinStandardHelpOptions = true,
      description = {
        "Verify the HMAC chain in FILE: detects a modified, deleted, inserted or reordered",
        "line, a line written with another key, and, given the head recorded when the log was",
        "written (--head), lines removed from the end.",
        "Key: --key-file, else KAVACH_AUDIT_KEY (hex, at least 64 digits)."
      },
      exitCodeListHeading = "%nExit codes:%n",
      exitCodeList = {
        "0:the chain is intact (and reaches --head)",
        "1:the chain is broken; the first broken line is printed",
        "125:kavach failed (no key, unreadable file)",
        "2:usage error"
      })
  static final class Verify implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "The audit log.")
    Path file;

    @Option(
        names = "--head",
        paramLabel = "SERIAL:MAC",
        description = "The head printed when the log was last written.")
    @Nullable String head;

    @Option(names = "--key-file", paramLabel = "FILE", description = "The key in hex.")
    @Nullable Path keyFile;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      AuditChain.Head expected = head == null ? null : AuditChain.Head.parse(head);
      AuditKey key = keyFile != null ? AuditKey.fromFile(keyFile) : AuditKey.fromEnvironment();
      AuditChain.Verification v;
      try {
        v = AuditChain.verify(file, key, expected);
      } finally {
        key.destroy();
      }
      var out = spec.commandLine().getOut();
      if (json) {
        ObjectNode n = Json.object();
        n.put("intact", v.intact());
        n.put("lines", v.lines());
        n.put("head", v.head().toString());
        if (!v.intact()) {
          n.put("broken_line", v.brokenLine());
          n.put("problem", v.problem());
        }
        out.println(Json.write(n));
      } else if (v.intact()) {
        out.println("intact: " + v.lines() + " lines, head " + v.head());
      } else {
        out.println("broken at line " + v.brokenLine() + ": " + v.problem());
      }
      out.flush();
      return v.intact() ? 0 : 1;
    }
  }
}
