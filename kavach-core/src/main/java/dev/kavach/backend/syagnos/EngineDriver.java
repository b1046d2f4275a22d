package dev.kavach.backend.syagnos;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.internal.container.CgroupDirs;
import dev.kavach.internal.container.ContainerLayout;
import dev.kavach.internal.container.ContainerPlan;
import dev.kavach.internal.container.ContainerSeccomp;
import dev.kavach.internal.container.HostContainerDriver;
import dev.kavach.internal.container.InsideFacts;
import dev.kavach.internal.container.RuntimeCommands;
import dev.kavach.internal.exec.Exec;
import dev.kavach.policy.FilesystemRule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs one sandbox's container from a sy-agnos image with podman (or docker): read-only root, no
 * capabilities, no_new_privs, the network off when isolated, memory, CPU and pids limits, the
 * seccomp profile (or none), rlimits within the host's hard limits, a name per container so that it
 * can be stopped, and the environment through the agent's spec file, never argv.
 */
final class EngineDriver extends HostContainerDriver {
  /**
   * RLIMIT_NPROC inside. Podman otherwise asks for 1048576, which root without CAP_SYS_RESOURCE
   * cannot grant ("error setting rlimit type 6"); the uid is the sandbox's own, so this counts only
   * the sandbox's processes.
   */
  static final long NPROC = 32768;

  private final ContainerEngine engine;
  private final ContainerPlan plan;
  private final String imageId;
  private final SyAgnosTier tier;

  EngineDriver(
      ContainerEngine engine,
      ContainerPlan plan,
      String imageId,
      SyAgnosTier tier,
      List<String> notes) {
    super(plan, notes);
    this.engine = engine;
    this.plan = plan;
    this.imageId = imageId;
    this.tier = tier;
  }

  @Override
  public String runtime() {
    return engine.name();
  }

  @Override
  public long create(ContainerLayout layout) {
    List<String> args = runArguments(layout);
    Exec.Result r = RuntimeCommands.run(engine.cmd(args.toArray(String[]::new)));
    if (r.exitValue() != 0 || r.timedOut()) {
      String err = (r.stderrText() + " " + r.stdoutText()).trim();
      delete();
      throw new KavachException(
          Reason.LAUNCH_FAILED,
          engine.name() + " could not start container " + plan.containerId() + ": " + err);
    }
    Exec.Result pid = engine.run("inspect", "--format", "{{.State.Pid}}", plan.containerId());
    long p;
    try {
      p = Long.parseLong(pid.stdoutText().trim());
    } catch (NumberFormatException e) {
      p = -1;
    }
    if (p <= 0) {
      delete();
      throw new KavachException(
          Reason.LAUNCH_FAILED,
          engine.name()
              + " started "
              + plan.containerId()
              + " but reports no pid: "
              + pid.stderrText());
    }
    started(p);
    return p;
  }

  /** The {@code run} arguments (after the global ones); package-private for tests. */
  List<String> runArguments(ContainerLayout layout) {
    List<String> a = new ArrayList<>();
    a.add("run");
    a.add("--detach");
    a.add("--name");
    a.add(plan.containerId());
    if (engine.ociRuntime() != null) {
      a.add("--runtime");
      a.add(engine.ociRuntime());
    }
    a.add("--network");
    a.add(plan.networkIsolated() ? "none" : "host");
    if (plan.readOnlyRoot()) {
      a.add("--read-only");
    }
    a.add("--tmpfs");
    a.add("/tmp:rw,nosuid,nodev,mode=1777,size=" + plan.tmpSizeBytes());
    for (String d : plan.secretDirs()) {
      a.add("--tmpfs");
      // Podman 4.3 refuses tmpfs uid=/gid= options; U hands the mount to the --user ids.
      a.add(d + ":rw,nosuid,nodev,noexec,mode=0700,U,size=" + ContainerPlan.SECRET_DIR_BYTES);
    }
    a.add("--cap-drop");
    a.add("ALL");
    a.add("--security-opt");
    a.add("no-new-privileges");
    a.add("--security-opt");
    a.add("seccomp=" + seccompFile(layout));
    if (plan.memoryLimitBytes() > 0) {
      a.add("--memory");
      a.add(plan.memoryLimitBytes() + "b");
      a.add("--memory-swap"); // memory+swap equal to memory: no swap
      a.add(plan.memoryLimitBytes() + "b");
    }
    if (plan.cpuLimit() > 0) {
      a.add("--cpu-period");
      a.add(Long.toString(ContainerPlan.CPU_PERIOD_US));
      a.add("--cpu-quota");
      a.add(Long.toString(plan.cpuQuotaUs()));
    }
    if (plan.pidsLimit() > 0) {
      a.add("--pids-limit");
      a.add(Integer.toString(plan.pidsLimit()));
    }
    a.add("--ulimit");
    a.add("nofile=" + plan.nofile() + ":" + plan.nofile());
    if (plan.fileSizeBytes() > 0) {
      a.add("--ulimit");
      a.add("fsize=" + plan.fileSizeBytes() + ":" + plan.fileSizeBytes());
    }
    a.add("--ulimit");
    a.add("nproc=" + NPROC + ":" + NPROC);
    a.add("--ulimit");
    a.add("core=0:0");
    a.add("--user");
    a.add(plan.uid() + ":" + plan.gid());
    a.add("--workdir");
    a.add(ContainerPlan.WORKSPACE);
    a.add("--hostname");
    a.add(plan.hostname());
    a.add("--log-driver");
    a.add("none");
    // Under a parent of the sandbox's own, so destroy finds every group the engine made
    // (podman leaves its conmon group behind).
    a.add("--cgroup-parent");
    a.add("/" + CgroupDirs.name(plan.sandboxId()));
    volume(a, layout.workspace().toString(), ContainerPlan.WORKSPACE, "rw,nosuid,nodev");
    for (FilesystemRule r : plan.binds()) {
      String access = r.access() == FilesystemRule.Access.RW ? "rw" : "ro";
      volume(a, r.path().toString(), r.path().toString(), access + ",nosuid,nodev");
    }
    volume(a, layout.agent().toString(), ContainerPlan.AGENT, "ro,nosuid,nodev");
    volume(a, layout.run().toString(), ContainerPlan.RUN, "rw,nosuid,nodev,noexec");
    a.add("--entrypoint");
    a.add(ContainerPlan.AGENT);
    a.add(imageId);
    a.add("init");
    a.add(plan.containerId());
    return a;
  }

  private static void volume(List<String> a, String source, String dest, String options) {
    if (source.contains(":") || dest.contains(":")) {
      throw new KavachException(
          Reason.POLICY_INVALID, "a path with ':' cannot be bound by podman or docker: " + source);
    }
    a.add("--volume");
    a.add(source + ":" + dest + ":" + options);
  }

  /**
   * The seccomp profile as a file, or {@code unconfined} when the policy asks for none: the
   * engine's own default profile would be a second, unreported profile set.
   */
  private String seccompFile(ContainerLayout layout) {
    ContainerSeccomp s = plan.seccomp();
    if (s == null) {
      return "unconfined";
    }
    Path f = layout.dir().resolve("seccomp.json");
    try {
      Files.writeString(f, s.linuxSeccomp(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot write the seccomp profile: " + e, e);
    }
    return f.toString();
  }

  @Override
  public List<String> execCommand(ContainerLayout layout, String token, List<String> args) {
    List<String> a = new ArrayList<>();
    a.add("exec");
    a.add("--user");
    a.add(plan.uid() + ":" + plan.gid());
    a.add("--workdir");
    a.add(ContainerPlan.WORKSPACE);
    a.add("--env");
    a.add("KAVACH_AGENT_TOKEN=" + token); // not a secret: it names a file that is already gone
    a.add(plan.containerId());
    a.addAll(args);
    return engine.cmd(a.toArray(String[]::new));
  }

  /**
   * Measured: podman 4.3's {@code exec --interactive} loses a quick command's output in about 4
   * runs of 10 when stdin carries data the command does not read, so stdin goes as a file.
   */
  @Override
  public boolean stdinThroughFile() {
    return true;
  }

  @Override
  public void verify(InsideFacts facts) {
    SyAgnosTier inside = facts.release().map(SyAgnosTier::parseRelease).orElse(SyAgnosTier.MINIMAL);
    if (inside != tier) {
      throw new KavachException(
          Reason.ENFORCEMENT_FAILED,
          "sy-agnos: the running container declares tier "
              + inside.id()
              + " but image "
              + imageId
              + " was scored as "
              + tier.id());
    }
  }

  @Override
  public void signalAgent(int insidePid) {
    terminateHostProcess(insidePid);
  }

  @Override
  public void pause() {
    RuntimeCommands.check(
        Reason.IO, engine.name() + " pause", engine.cmd("pause", plan.containerId()));
  }

  @Override
  public void resume() {
    RuntimeCommands.check(
        Reason.IO, engine.name() + " unpause", engine.cmd("unpause", plan.containerId()));
  }

  @Override
  public void killAll() {
    engine.run("kill", "--signal", "KILL", plan.containerId());
  }

  @Override
  public boolean running() {
    Exec.Result r = engine.run("inspect", "--format", "{{.State.Status}}", plan.containerId());
    String s = r.stdoutText().trim().toLowerCase(Locale.ROOT);
    return r.exitValue() == 0 && (s.equals("running") || s.equals("paused"));
  }

  @Override
  public void delete() {
    List<String> problems = new ArrayList<>();
    Exec.Result r = engine.run("rm", "--force", "--time", "0", plan.containerId());
    if (r.exitValue() != 0 && !r.stderrText().contains("no such container")) {
      problems.add(engine.name() + " rm " + plan.containerId() + ": " + r.stderrText().trim());
    }
    finishDelete(problems);
  }
}
