package dev.kavach.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code kavach} command line.
 *
 * <p>Exit codes: the command's own; 124 when it timed out; 128+N when a signal N killed it; 125
 * when kavach itself failed (bad backend, policy or file, setup failure); 2 for usage errors.
 * Errors are one line on standard error starting with {@code kavach:}.
 */
@Command(
    name = "kavach",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Run untrusted commands under enforced, verified isolation.",
    subcommands = {
      ExecCommand.class,
      BackendsCommand.class,
      ScoreCommand.class,
      DoctorCommand.class,
      PolicyCommand.class,
      AuditCommand.class,
      QuarantineCommand.class,
      CommandLine.HelpCommand.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "N:the command's own exit code",
      "124:the command timed out",
      "128+N:a signal N killed the command",
      "125:kavach failed (bad backend, policy or file, setup failure)",
      "2:usage error"
    })
public final class Main implements Runnable {
  /** Exit code when kavach itself fails. */
  static final int KAVACH_ERROR = 125;

  /** Exit code when the command timed out. */
  static final int TIMED_OUT = 124;

  /** Exit code for usage errors. */
  static final int USAGE = 2;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private Main() {}

  /** Runs the CLI and exits the JVM with its exit code. */
  public static void main(String[] args) {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    PrintStream err = new PrintStream(System.err, true, StandardCharsets.UTF_8);
    System.exit(run(args, out, err));
  }

  /** Runs the CLI with the given streams and returns the exit code. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
    cli.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          commandLine.getErr().println("kavach: " + oneLine(e));
          commandLine.getErr().flush();
          return KAVACH_ERROR;
        });
    cli.setParameterExceptionHandler(
        (e, args1) -> {
          CommandLine c = e.getCommandLine();
          c.getErr().println("kavach: " + oneLine(e));
          c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for usage.");
          c.getErr().flush();
          return USAGE;
        });
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    IoStreams.set(cli, out, err);
    return cli.execute(args);
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
  }

  static String oneLine(Throwable e) {
    String msg = e.getMessage();
    if (msg == null || msg.isBlank()) {
      msg = e.getClass().getSimpleName();
    }
    return msg.replace('\n', ' ');
  }

  /** Reports the version from the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"kavach " + (v == null ? "development build" : v)};
    }
  }
}
