package dev.kavach.cli;

import dev.kavach.policy.SandboxPolicy;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kavach policy show}: print a policy as canonical JSON. */
@Command(
    name = "policy",
    mixinStandardHelpOptions = true,
    description = "Work with policies.",
    subcommands = {PolicyCommand.Show.class})
final class PolicyCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(
        spec.commandLine(), "missing subcommand (show)");
  }

  /** {@code kavach policy show NAME | --file F}. */
  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = "Print a preset or a policy file as canonical JSON (validating the file).")
  static final class Show implements Callable<Integer> {
    @ArgGroup(exclusive = true, multiplicity = "1")
    Which which;

    static final class Which {
      @Parameters(paramLabel = "PRESET", description = "minimal, basic or strict")
      @Nullable String preset;

      @Option(
          names = "--file",
          paramLabel = "FILE",
          description = "A policy file to validate and print.")
      @Nullable Path file;
    }

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      SandboxPolicy p =
          which.file != null ? SandboxPolicy.load(which.file) : SandboxPolicy.preset(which.preset);
      spec.commandLine().getOut().println(p.toJson());
      spec.commandLine().getOut().flush();
      return 0;
    }
  }
}
