package dev.kavach.backend.oci;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.internal.container.CgroupDirs;
import dev.kavach.internal.container.ContainerLayout;
import dev.kavach.internal.container.ContainerPlan;
import dev.kavach.internal.container.ContainerSeccomp;
import dev.kavach.internal.container.OciSpecs;
import dev.kavach.policy.FilesystemRule;
import java.util.List;
import java.util.OptionalInt;

/**
 * Writes the OCI runtime spec ({@code config.json}) and exec process specs for a {@link
 * ContainerPlan}. Shared by the {@code oci} backends (runc, crun) and the {@code gvisor} backend
 * (runsc): the one dependency between backend packages, on purpose, so that one writer decides what
 * a kavach container is.
 *
 * <p>What every container gets:
 *
 * <ul>
 *   <li>process: the plan's unprivileged uid and gid, no capability in any set (bounding,
 *       effective, permitted, inheritable, ambient), {@code noNewPrivileges}, RLIMIT_NOFILE within
 *       the host's hard limit and RLIMIT_CORE 0, working directory {@code /workspace};
 *   <li>namespaces: pid, mount, ipc, uts, cgroup, and network when the policy isolates it (an empty
 *       network namespace has only loopback); user when kavach is not root;
 *   <li>root: an empty directory with the host's {@code /usr}, {@code /bin}, {@code /lib*}, {@code
 *       /sbin} and {@code /etc} bound read-only and nosuid, host secrets under them hidden ({@code
 *       /etc/shadow}, ssh host keys, ...), or the plan's root filesystem;
 *   <li>mounts: {@code /proc}, a tmpfs {@code /dev} with the runtime's minimal devices, {@code
 *       /dev/pts}, {@code /dev/shm}, {@code /sys} read-only, a sized tmpfs {@code /tmp}, the
 *       workspace read-write, the policy's paths, and kavach's agent (read-only) and run directory;
 *   <li>the usual masked and read-only {@code /proc} and {@code /sys} paths;
 *   <li>resources: memory (the same value as memory+swap, so no swap), CPU quota, pids; all devices
 *       denied but the runtime's defaults;
 *   <li>seccomp: the policy's profile, as exported by the process backend's seccomp compiler.
 * </ul>
 *
 * <pre>{@code
 * String json = new OciBundle().config(plan, layout);
 * }</pre>
 */
public final class OciBundle implements OciSpecs {
  /** The {@code ociVersion} written; runc 1.1, crun 1.8 and runsc 2022 all accept it. */
  public static final String OCI_VERSION = "1.0.2";

  /** The container's {@code PATH} for its first process (commands get their own environment). */
  static final String PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  /** Paths hidden from the container: kernel memory, keys, debugging interfaces, firmware. */
  public static final List<String> MASKED_PATHS =
      List.of(
          "/proc/acpi",
          "/proc/asound",
          "/proc/kcore",
          "/proc/keys",
          "/proc/latency_stats",
          "/proc/timer_list",
          "/proc/timer_stats",
          "/proc/sched_debug",
          "/proc/scsi",
          "/proc/sysrq-trigger",
          "/sys/firmware",
          "/sys/devices/virtual/powercap");

  /** Paths the container may read but never write. */
  public static final List<String> READONLY_PATHS =
      List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys");

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> CAPABILITY_SETS =
      List.of("bounding", "effective", "inheritable", "permitted", "ambient");

  private final OptionalInt hostUid;
  private final OptionalInt hostGid;

  /** A writer for a runtime run by root: no user namespace, the plan's uid is a host uid. */
  public OciBundle() {
    this.hostUid = OptionalInt.empty();
    this.hostGid = OptionalInt.empty();
  }

  private OciBundle(int hostUid, int hostGid) {
    this.hostUid = OptionalInt.of(hostUid);
    this.hostGid = OptionalInt.of(hostGid);
  }

  /**
   * A writer for a runtime run by an unprivileged user: a user namespace maps the plan's uid and
   * gid (the only ids inside) to {@code hostUid} and {@code hostGid}.
   */
  public static OciBundle rootless(int hostUid, int hostGid) {
    return new OciBundle(hostUid, hostGid);
  }

  @Override
  public String config(ContainerPlan plan, ContainerLayout layout) {
    ObjectNode root = JSON.createObjectNode();
    root.put("ociVersion", OCI_VERSION);
    root.set(
        "process",
        process(
            plan,
            List.of(ContainerPlan.AGENT, "init", plan.containerId()),
            List.of(PATH),
            ContainerPlan.WORKSPACE));
    ObjectNode rootfs = root.putObject("root");
    rootfs.put(
        "path", plan.rootfs() != null ? plan.rootfs().toString() : layout.rootfs().toString());
    rootfs.put("readonly", plan.readOnlyRoot());
    root.put("hostname", plan.hostname());
    root.set("mounts", mounts(plan, layout));
    root.set("linux", linux(plan));
    return write(root);
  }

  @Override
  public String process(ContainerPlan plan, List<String> args, List<String> env) {
    return write(process(plan, args, env, ContainerPlan.WORKSPACE));
  }

  private static ObjectNode process(
      ContainerPlan plan, List<String> args, List<String> env, String cwd) {
    ObjectNode p = JSON.createObjectNode();
    p.put("terminal", false);
    ObjectNode user = p.putObject("user");
    user.put("uid", plan.uid());
    user.put("gid", plan.gid());
    user.putArray("additionalGids");
    ArrayNode a = p.putArray("args");
    args.forEach(a::add);
    ArrayNode e = p.putArray("env");
    env.forEach(e::add);
    p.put("cwd", cwd);
    // Every set empty, including bounding and ambient: a command that gains an exec of a file
    // with file capabilities still gets none (and no_new_privs stops setuid).
    ObjectNode caps = p.putObject("capabilities");
    CAPABILITY_SETS.forEach(caps::putArray);
    ArrayNode rl = p.putArray("rlimits");
    rlimit(rl, "RLIMIT_NOFILE", plan.nofile());
    if (plan.fileSizeBytes() > 0) {
      rlimit(rl, "RLIMIT_FSIZE", plan.fileSizeBytes());
    }
    rlimit(rl, "RLIMIT_CORE", 0);
    p.put("noNewPrivileges", true);
    return p;
  }

  private static void rlimit(ArrayNode rl, String type, long value) {
    ObjectNode r = rl.addObject();
    r.put("type", type);
    r.put("hard", value);
    r.put("soft", value);
  }

  private static ArrayNode mounts(ContainerPlan plan, ContainerLayout layout) {
    ArrayNode m = JSON.createArrayNode();
    mount(m, "/proc", "proc", "proc", "nosuid", "noexec", "nodev");
    mount(m, "/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k");
    mount(
        m,
        "/dev/pts",
        "devpts",
        "devpts",
        "nosuid",
        "noexec",
        "newinstance",
        "ptmxmode=0666",
        "mode=0620");
    mount(m, "/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k");
    mount(m, "/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev");
    mount(m, "/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro");
    mount(m, "/sys/fs/cgroup", "cgroup", "cgroup", "nosuid", "noexec", "nodev", "relatime", "ro");
    mount(
        m, "/tmp", "tmpfs", "tmpfs", "nosuid", "nodev", "mode=1777", "size=" + plan.tmpSizeBytes());
    // Secret files' directories: memory only, private to the sandbox's uid (the agent writes the
    // files there for each exec).
    for (String d : plan.secretDirs()) {
      mount(
          m,
          d,
          "tmpfs",
          "tmpfs",
          "nosuid",
          "nodev",
          "noexec",
          "mode=0700",
          "uid=" + plan.uid(),
          "gid=" + plan.gid(),
          "size=" + ContainerPlan.SECRET_DIR_BYTES);
    }
    // Host system directories: read-only and nosuid, so a setuid program of the host is inert
    // even before no_new_privs.
    for (String dir : plan.systemDirs()) {
      bind(m, dir, dir, "rbind", "ro", "nosuid", "nodev");
    }
    // Secrets under those directories, hidden after the directories are in place. A file is
    // covered by /dev/null on a nodev mount, so opening it fails (EACCES) under runc and crun
    // and reads as empty under gVisor; a directory is covered by an empty read-only tmpfs.
    for (String f : plan.maskedFiles()) {
      bind(m, "/dev/null", f, "bind", "ro", "nosuid", "nodev", "noexec");
    }
    for (String d : plan.maskedDirs()) {
      mount(m, d, "tmpfs", "tmpfs", "ro", "nosuid", "nodev", "noexec", "size=4k", "mode=000");
    }
    bind(
        m,
        layout.workspace().toString(),
        ContainerPlan.WORKSPACE,
        "rbind",
        "rw",
        "nosuid",
        "nodev");
    for (FilesystemRule r : plan.binds()) {
      String access = r.access() == FilesystemRule.Access.RW ? "rw" : "ro";
      bind(m, r.path().toString(), r.path().toString(), "rbind", access, "nosuid", "nodev");
    }
    bind(m, layout.agent().toString(), ContainerPlan.AGENT, "bind", "ro", "nosuid", "nodev");
    bind(m, layout.run().toString(), ContainerPlan.RUN, "bind", "rw", "nosuid", "nodev", "noexec");
    return m;
  }

  private static void mount(ArrayNode m, String dest, String type, String source, String... opts) {
    ObjectNode n = m.addObject();
    n.put("destination", dest);
    n.put("type", type);
    n.put("source", source);
    ArrayNode o = n.putArray("options");
    for (String s : opts) {
      o.add(s);
    }
  }

  private static void bind(ArrayNode m, String source, String dest, String... opts) {
    mount(m, dest, "bind", source, opts);
  }

  private ObjectNode linux(ContainerPlan plan) {
    ObjectNode l = JSON.createObjectNode();
    if (hostUid.isPresent()) {
      idMapping(l.putArray("uidMappings"), plan.uid(), hostUid.getAsInt());
      idMapping(l.putArray("gidMappings"), plan.gid(), hostGid.getAsInt());
    }
    ObjectNode res = l.putObject("resources");
    ObjectNode deny = res.putArray("devices").addObject();
    deny.put("allow", false);
    deny.put("access", "rwm");
    if (plan.memoryLimitBytes() > 0) {
      ObjectNode mem = res.putObject("memory");
      mem.put("limit", plan.memoryLimitBytes());
      mem.put("swap", plan.memoryLimitBytes()); // memory+swap: no swap on top of the limit
    }
    if (plan.cpuLimit() > 0) {
      ObjectNode cpu = res.putObject("cpu");
      cpu.put("quota", plan.cpuQuotaUs());
      cpu.put("period", ContainerPlan.CPU_PERIOD_US);
    }
    if (plan.pidsLimit() > 0) {
      res.putObject("pids").put("limit", plan.pidsLimit());
    }
    l.put("cgroupsPath", "/" + CgroupDirs.name(plan.sandboxId()));
    ArrayNode ns = l.putArray("namespaces");
    for (String t : List.of("pid", "mount", "ipc", "uts", "cgroup")) {
      ns.addObject().put("type", t);
    }
    if (plan.networkIsolated()) {
      ns.addObject().put("type", "network");
    }
    if (hostUid.isPresent()) {
      ns.addObject().put("type", "user");
    }
    ArrayNode masked = l.putArray("maskedPaths");
    MASKED_PATHS.forEach(masked::add);
    ArrayNode ro = l.putArray("readonlyPaths");
    READONLY_PATHS.forEach(ro::add);
    ContainerSeccomp seccomp = plan.seccomp();
    if (seccomp != null) {
      try {
        JsonNode profile = JSON.readTree(seccomp.linuxSeccomp());
        if (!profile.isObject()) {
          throw new KavachException(
              Reason.POLICY_INVALID,
              "seccomp profile " + seccomp.profile() + " is not an OCI linux.seccomp object");
        }
        l.set("seccomp", profile);
      } catch (JsonProcessingException e) {
        throw new KavachException(
            Reason.POLICY_INVALID,
            "seccomp profile " + seccomp.profile() + " is not valid JSON: " + e.getMessage(),
            e);
      }
    }
    return l;
  }

  private static void idMapping(ArrayNode a, int containerId, int hostId) {
    ObjectNode n = a.addObject();
    n.put("containerID", containerId);
    n.put("hostID", hostId);
    n.put("size", 1);
  }

  private static String write(JsonNode node) {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise an OCI spec", e);
    }
  }
}
