package dev.kavach.internal.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.internal.exec.Exec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * Drives runc, crun or runsc for one container, through their shared OCI command line: {@code run
 * --detach}, {@code exec --process}, {@code pause}, {@code resume}, {@code kill --all}, {@code
 * delete --force}, {@code state}. Each runtime keeps its state under a private {@code --root}
 * ({@link #stateRoot}), so the runtime's default list stays clean.
 */
public final class OciRuntimeDriver extends HostContainerDriver {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The runtimes this driver speaks to. */
  public enum Kind {
    /** runc: container processes are host processes. */
    RUNC("runc"),
    /** crun: as runc. */
    CRUN("crun"),
    /** runsc (gVisor): processes live inside the sandbox's user-space kernel. */
    RUNSC("runsc");

    private final String command;

    Kind(String command) {
      this.command = command;
    }

    /** The runtime's usual command name. */
    public String command() {
      return command;
    }
  }

  /** Where kavach's runtimes keep container state: {@code /run/kavach/<runtime>}. */
  public static Path stateRoot(Kind kind) {
    return Path.of("/run/kavach", kind.command());
  }

  private final Kind kind;
  private final List<String> runtime;
  private final ContainerPlan plan;
  private final OciSpecs specs;

  /**
   * A driver for the plan's container.
   *
   * @param kind which runtime
   * @param runtime the command that runs it, with its global flags (for crun on a hybrid cgroup
   *     host, behind its mount-namespace wrapper), ending just before the subcommand
   * @param plan the container
   * @param specs writes config.json and process specs
   * @param notes facts about the runtime for the report
   */
  public OciRuntimeDriver(
      Kind kind, List<String> runtime, ContainerPlan plan, OciSpecs specs, List<String> notes) {
    super(plan, notes);
    this.kind = kind;
    this.runtime = List.copyOf(runtime);
    this.plan = plan;
    this.specs = specs;
  }

  @Override
  public String runtime() {
    return kind.command();
  }

  @Override
  public long create(ContainerLayout layout) {
    try {
      Files.createDirectories(
          stateRoot(kind),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      Files.writeString(
          layout.bundle().resolve("config.json"),
          specs.config(plan, layout),
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot write the OCI bundle: " + e, e);
    }
    Exec.Result r =
        RuntimeCommands.run(
            cmd("run", "--detach", "--bundle", layout.bundle().toString(), plan.containerId()));
    if (r.exitValue() != 0 || r.timedOut()) {
      String err = (r.stderrText() + " " + r.stdoutText()).trim();
      delete();
      throw new KavachException(
          Reason.LAUNCH_FAILED,
          kind.command() + " could not start container " + plan.containerId() + ": " + err);
    }
    JsonNode state = state();
    long pid = state == null ? -1 : state.path("pid").asLong(-1);
    if (pid <= 0) {
      delete();
      throw new KavachException(
          Reason.LAUNCH_FAILED,
          kind.command() + " started " + plan.containerId() + " but reports no pid: " + state);
    }
    started(pid);
    return pid;
  }

  @Override
  public List<String> execCommand(ContainerLayout layout, String token, List<String> args) {
    Path spec = layout.exec().resolve(token + ".json");
    try {
      Files.writeString(
          spec,
          specs.process(plan, args, List.of("KAVACH_AGENT_TOKEN=" + token)),
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot write the process spec: " + e, e);
    }
    return cmd("exec", "--process", spec.toString(), plan.containerId());
  }

  @Override
  public boolean agentInstallsSeccomp() {
    // Measured: with --oci-seccomp, runsc 20221219 filters the container's init but not the
    // processes of "runsc exec" (Seccomp: 0, unshare succeeds).
    return kind == Kind.RUNSC;
  }

  @Override
  public void signalAgent(int insidePid) {
    if (kind == Kind.RUNSC) {
      // gVisor's processes are not host processes; runsc signals inside its own kernel.
      RuntimeCommands.run(
          cmd("kill", "--pid", Integer.toString(insidePid), plan.containerId(), "TERM"));
      return;
    }
    terminateHostProcess(insidePid);
  }

  @Override
  public void pause() {
    RuntimeCommands.check(
        Reason.IO,
        kind.command() + " pause " + plan.containerId(),
        cmd("pause", plan.containerId()));
  }

  @Override
  public void resume() {
    RuntimeCommands.check(
        Reason.IO,
        kind.command() + " resume " + plan.containerId(),
        cmd("resume", plan.containerId()));
  }

  @Override
  public void killAll() {
    RuntimeCommands.run(cmd("kill", "--all", plan.containerId(), "KILL"));
  }

  @Override
  public boolean running() {
    JsonNode s = state();
    if (s == null) {
      return false;
    }
    String status = s.path("status").asText("");
    return status.equals("running") || status.equals("paused");
  }

  @Override
  public void delete() {
    Exec.Result r = RuntimeCommands.run(cmd("delete", "--force", plan.containerId()));
    List<String> problems = new ArrayList<>();
    if (r.exitValue() != 0 && state() != null) {
      problems.add(
          kind.command() + " delete --force " + plan.containerId() + ": " + r.stderrText().trim());
    }
    // runsc leaves its cgroup directories behind when a sandbox dies on its own (an OOM kill, a
    // failed start); runc and crun should not, but an empty leftover is removed all the same.
    finishDelete(problems);
  }

  private @org.jspecify.annotations.Nullable JsonNode state() {
    Exec.Result r = RuntimeCommands.run(cmd("state", plan.containerId()));
    if (r.exitValue() != 0) {
      return null;
    }
    try {
      return JSON.readTree(r.stdoutText());
    } catch (IOException e) {
      return null;
    }
  }

  private List<String> cmd(String... args) {
    List<String> out = new ArrayList<>(runtime);
    out.addAll(List.of(args));
    return out;
  }
}
