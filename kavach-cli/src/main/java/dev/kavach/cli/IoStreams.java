package dev.kavach.cli;

import java.io.PrintStream;
import picocli.CommandLine;

/**
 * The raw byte streams of one CLI run. Commands write the sandboxed command's output through these
 * byte for byte (picocli's writers are for text).
 *
 * @param out standard output
 * @param err standard error
 */
record IoStreams(PrintStream out, PrintStream err) {

  static void set(CommandLine root, PrintStream out, PrintStream err) {
    set(root, new IoStreams(out, err));
  }

  private static void set(CommandLine parent, IoStreams streams) {
    for (CommandLine sub : parent.getSubcommands().values()) {
      Object cmd = sub.getCommand();
      if (cmd instanceof NeedsStreams n) {
        n.streams(streams);
      }
      set(sub, streams);
    }
  }

  /** A command that writes raw bytes. */
  interface NeedsStreams {
    void streams(IoStreams streams);
  }
}
