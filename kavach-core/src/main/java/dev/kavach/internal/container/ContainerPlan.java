package dev.kavach.internal.container;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.SandboxConfig;
import dev.kavach.credential.Injection;
import dev.kavach.credential.SecretRef;
import dev.kavach.policy.FilesystemRule;
import dev.kavach.policy.SandboxPolicy;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * What a container for one sandbox must look like, decided from the policy and the host before
 * anything is created. The runtime-specific writers (the OCI bundle, podman flags) translate it;
 * {@link Confirmation} later checks the running container against it.
 *
 * @param sandboxId the sandbox's id
 * @param containerId the runtime's name for the container, {@code kavach-<sandboxId>}
 * @param uid the uid the agent and every command run as (never 0)
 * @param gid their gid
 * @param hostname the container's host name
 * @param networkIsolated whether the container gets its own empty network namespace
 * @param readOnlyRoot whether the root filesystem is read-only
 * @param memoryLimitBytes memory (and memory+swap) limit, 0 for none
 * @param cpuLimit CPU quota in cores, 0 for none
 * @param pidsLimit process limit, 0 for none
 * @param nofile RLIMIT_NOFILE, soft and hard (within the host's hard limit)
 * @param fileSizeBytes RLIMIT_FSIZE, soft and hard, 0 for none
 * @param tmpSizeBytes size of the {@code /tmp} tmpfs
 * @param binds the policy's filesystem rules (and data dir), each bound at the same path
 * @param rootfs a root filesystem directory, or null for an empty root with {@code systemDirs}
 * @param systemDirs host directories bound read-only at the same path (empty with a rootfs)
 * @param maskedFiles host secrets under the system directories, hidden behind an empty file
 * @param maskedDirs host secret directories, hidden behind an empty read-only tmpfs
 * @param secretDirs directories that get a private tmpfs (owned by {@code uid}, mode 0700) for
 *     secrets injected as files, parents first
 * @param seccomp the seccomp profile to install, or null for none
 */
public record ContainerPlan(
    String sandboxId,
    String containerId,
    int uid,
    int gid,
    String hostname,
    boolean networkIsolated,
    boolean readOnlyRoot,
    long memoryLimitBytes,
    double cpuLimit,
    int pidsLimit,
    long nofile,
    long fileSizeBytes,
    long tmpSizeBytes,
    List<FilesystemRule> binds,
    @Nullable Path rootfs,
    List<String> systemDirs,
    List<String> maskedFiles,
    List<String> maskedDirs,
    List<String> secretDirs,
    @Nullable ContainerSeccomp seccomp) {

  /** Where the agent binary appears inside the container. */
  public static final String AGENT = "/.kavach/kavach-agent-oci";

  /** Where the agent's run directory (spec and status files) appears inside the container. */
  public static final String RUN = "/.kavach/run";

  /** Where the workspace appears inside the container. */
  public static final String WORKSPACE = "/workspace";

  /**
   * First uid (and gid) handed to sandboxes; 2^24 follow it. The same range as the process
   * backend's: no distribution allocates it, and a uid is drawn per sandbox, so two sandboxes never
   * share an owner of anything. The command never holds host root; the workspace is handed to this
   * uid for the sandbox's life (see {@link WorkspaceOwner}).
   */
  public static final int SANDBOX_UID_BASE = 0x7E00_0000;

  private static final int SANDBOX_UID_COUNT = 1 << 24;
  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

  /** The size of {@code /tmp} inside the container. */
  public static final long DEFAULT_TMP_BYTES = 64L << 20;

  /** RLIMIT_NOFILE inside, unless the host's hard limit is lower. */
  public static final long DEFAULT_NOFILE = 1024;

  /** The CFS period used with {@link #cpuQuotaUs()}. */
  public static final long CPU_PERIOD_US = 100_000;

  /** Host directories that make an empty root usable: the programs and their configuration. */
  static final List<String> SYSTEM_DIRS =
      List.of("/usr", "/bin", "/lib", "/lib32", "/lib64", "/libx32", "/sbin", "/etc");

  /**
   * Host files under /etc that hold secrets. The command runs as an unprivileged uid that could not
   * read most of them anyway; masking them also covers a rootful container user and files whose
   * mode is too loose.
   */
  static final List<String> SECRET_FILES =
      List.of(
          "/etc/shadow",
          "/etc/shadow-",
          "/etc/gshadow",
          "/etc/gshadow-",
          "/etc/sudoers",
          "/etc/security/opasswd",
          "/etc/krb5.keytab");

  /** Host directories under /etc that hold secrets. */
  static final List<String> SECRET_DIRS =
      List.of("/etc/sudoers.d", "/etc/ssl/private", "/etc/credstore", "/etc/credstore.encrypted");

  /** Copies the lists and checks the values that would be dangerous if wrong. */
  public ContainerPlan {
    Objects.requireNonNull(sandboxId, "sandboxId");
    Objects.requireNonNull(containerId, "containerId");
    binds = List.copyOf(binds);
    systemDirs = List.copyOf(systemDirs);
    maskedFiles = List.copyOf(maskedFiles);
    maskedDirs = List.copyOf(maskedDirs);
    secretDirs = List.copyOf(secretDirs);
    if (uid <= 0 || gid <= 0) {
      throw new IllegalArgumentException("uid and gid must not be 0: commands never hold root");
    }
  }

  /** The facts about the host that a plan depends on, read once. */
  public record Host(long nofileHard, List<String> systemDirs, List<String> secrets) {

    /** Copies the lists. */
    public Host {
      systemDirs = List.copyOf(systemDirs);
      secrets = List.copyOf(secrets);
    }

    /** Reads this host: the JVM's hard RLIMIT_NOFILE, which system directories exist, secrets. */
    public static Host read() {
      List<String> dirs = new ArrayList<>();
      for (String d : SYSTEM_DIRS) {
        if (Files.isDirectory(Path.of(d))) { // follows the merged-/usr symlinks
          dirs.add(d);
        }
      }
      List<String> secrets = new ArrayList<>();
      for (String f : SECRET_FILES) {
        if (Files.exists(Path.of(f), LinkOption.NOFOLLOW_LINKS)) {
          secrets.add(f);
        }
      }
      secrets.addAll(sshHostKeys(Path.of("/etc/ssh")));
      for (String d : SECRET_DIRS) {
        if (Files.isDirectory(Path.of(d), LinkOption.NOFOLLOW_LINKS)) {
          secrets.add(d + "/");
        }
      }
      return new Host(
          Limits.parseHardNofile(dev.kavach.internal.host.HostProbe.read("/proc/self/limits")),
          dirs,
          secrets);
    }

    private static List<String> sshHostKeys(Path dir) {
      List<String> keys = new ArrayList<>();
      if (!Files.isDirectory(dir)) {
        return keys;
      }
      try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "ssh_host_*_key")) {
        for (Path p : s) {
          keys.add(p.toString());
        }
      } catch (IOException e) {
        throw new KavachException(
            Reason.IO, "cannot list " + dir + " to mask ssh host keys: " + e.getMessage(), e);
      }
      keys.sort(null);
      return keys;
    }
  }

  /**
   * The plan for one sandbox.
   *
   * @param rootfs a root filesystem directory, or null for the host's system directories
   * @param seccompSupported whether the runtime installs OCI seccomp profiles; without it a
   *     requested profile is left out (only a best-effort policy gets this far)
   * @throws KavachException with {@link Reason#POLICY_INVALID} if a filesystem rule's path does not
   *     exist (a rule is never silently skipped) or the seccomp profile is unknown
   */
  public static ContainerPlan of(
      String sandboxId,
      SandboxPolicy policy,
      Host host,
      @Nullable Path rootfs,
      boolean seccompSupported) {
    return of(sandboxId, policy, host, rootfs, seccompSupported, List.of());
  }

  /**
   * The plan for one sandbox whose secrets include files at {@code secretFiles} (absolute paths
   * inside the container).
   *
   * @throws KavachException with {@link Reason#POLICY_INVALID} also if a secret file would not be
   *     on memory-backed storage (see {@link #secretDirs})
   */
  public static ContainerPlan of(
      String sandboxId,
      SandboxPolicy policy,
      Host host,
      @Nullable Path rootfs,
      boolean seccompSupported,
      List<String> secretFiles) {
    ContainerSeccomp seccomp =
        seccompSupported ? ContainerSeccomp.of(policy, policy.network().isolated()) : null;
    List<FilesystemRule> binds = new ArrayList<>(policy.filesystemRules());
    if (policy.dataDir() != null) {
      binds.add(FilesystemRule.readWrite(policy.dataDir()));
    }
    for (FilesystemRule r : binds) {
      if (!Files.exists(r.path())) {
        throw new KavachException(
            Reason.POLICY_INVALID,
            "filesystem rule path " + r.path() + " does not exist on this host");
      }
    }
    List<String> files = new ArrayList<>();
    List<String> dirs = new ArrayList<>();
    if (rootfs == null) {
      for (String s : host.secrets()) {
        if (s.endsWith("/")) {
          dirs.add(s.substring(0, s.length() - 1));
        } else {
          files.add(s);
        }
      }
    }
    Long mem = policy.memoryLimitMb();
    Double cpu = policy.cpuLimit();
    Integer pids = policy.maxPids();
    int uid = SANDBOX_UID_BASE + RANDOM.nextInt(SANDBOX_UID_COUNT);
    return new ContainerPlan(
        sandboxId,
        "kavach-" + sandboxId,
        uid,
        uid,
        "kavach",
        policy.network().isolated(),
        policy.readOnlyRootfs(),
        mem == null ? 0 : mem * 1024 * 1024,
        cpu == null ? 0 : cpu,
        pids == null ? 0 : pids,
        Math.min(DEFAULT_NOFILE, host.nofileHard()),
        policy.maxFileSizeMb() == null ? 0 : policy.maxFileSizeMb() << 20,
        DEFAULT_TMP_BYTES,
        binds,
        rootfs,
        rootfs == null ? host.systemDirs() : List.of(),
        files,
        dirs,
        secretDirs(secretFiles, rootfs == null ? host.systemDirs() : List.of(), binds),
        seccomp);
  }

  /**
   * The plan for a sandbox of {@code config} on a runtime that installs OCI seccomp profiles, with
   * this host's system directories unless {@code rootfs} is given.
   */
  public static ContainerPlan of(String sandboxId, SandboxConfig config, @Nullable Path rootfs) {
    return of(sandboxId, config.policy(), Host.read(), rootfs, true, secretFiles(config));
  }

  /** The paths inside the container of the configuration's secrets injected as files. */
  public static List<String> secretFiles(SandboxConfig config) {
    List<String> paths = new ArrayList<>();
    for (SecretRef ref : config.secrets()) {
      if (ref.injection() instanceof Injection.File f) {
        paths.add(f.path());
      }
    }
    return paths;
  }

  /** Size of each secret directory's tmpfs: memory is used only for what is written. */
  public static final long SECRET_DIR_BYTES = 16L << 20;

  /** Directories of the container whose contents are already memory-backed tmpfs of its own. */
  private static final List<String> MEMORY_DIRS = List.of("/tmp");

  /**
   * Directories that must never hold an injected secret: host directories (bound from the host's
   * disk, or read-only), the workspace (the host's disk), kernel filesystems and kavach's own.
   */
  private static final List<String> NO_SECRET_DIRS =
      List.of(WORKSPACE, "/proc", "/sys", "/dev", "/.kavach");

  /**
   * The tmpfs mounts that secret files need. A secret goes into its parent directory, which gets a
   * private tmpfs of the sandbox's uid unless it is already memory-backed ({@code /tmp}). A parent
   * on anything the host's disk backs (a system directory, the workspace, a filesystem rule) or on
   * a kernel filesystem is refused: a tmpfs there would hide what the command expects to find, and
   * writing through would put the secret on the host's disk.
   */
  static List<String> secretDirs(
      List<String> secretFiles, List<String> systemDirs, List<FilesystemRule> binds) {
    List<String> refused = new ArrayList<>(NO_SECRET_DIRS);
    refused.addAll(SYSTEM_DIRS);
    refused.addAll(systemDirs);
    for (FilesystemRule r : binds) {
      refused.add(r.path().toString());
    }
    // Parents first, so a nested secret directory is mounted inside its parent's tmpfs.
    TreeSet<String> dirs =
        new TreeSet<>(Comparator.comparingInt(String::length).thenComparing(s -> s));
    for (String file : secretFiles) {
      Path parent = Path.of(file).normalize().getParent();
      if (parent == null || parent.getParent() == null) {
        throw new KavachException(
            Reason.POLICY_INVALID,
            "secret file "
                + file
                + " must be in a directory below / (for example /run/secrets/NAME): the"
                + " container's root is not memory-backed");
      }
      String dir = parent.toString();
      if (under(dir, MEMORY_DIRS)) {
        continue;
      }
      for (String r : refused) {
        if (under(dir, List.of(r)) || under(r, List.of(dir))) {
          throw new KavachException(
              Reason.POLICY_INVALID,
              "secret file "
                  + file
                  + ": "
                  + dir
                  + (under(dir, List.of(r)) ? " is on " : " would hide ")
                  + r
                  + ", which is not memory-backed in the container (use a directory of its own,"
                  + " for example /run/secrets)");
        }
      }
      dirs.add(dir);
    }
    return List.copyOf(dirs);
  }

  private static boolean under(String path, List<String> roots) {
    for (String r : roots) {
      if (path.equals(r) || path.startsWith(r.endsWith("/") ? r : r + "/")) {
        return true;
      }
    }
    return false;
  }

  /** The same plan with another process limit (gVisor adds its own threads to the policy's). */
  public ContainerPlan withPidsLimit(int limit) {
    return new ContainerPlan(
        sandboxId,
        containerId,
        uid,
        gid,
        hostname,
        networkIsolated,
        readOnlyRoot,
        memoryLimitBytes,
        cpuLimit,
        limit,
        nofile,
        fileSizeBytes,
        tmpSizeBytes,
        binds,
        rootfs,
        systemDirs,
        maskedFiles,
        maskedDirs,
        secretDirs,
        seccomp);
  }

  /** The CPU quota in microseconds per {@link #CPU_PERIOD_US}, 0 for none. */
  public long cpuQuotaUs() {
    return cpuLimit <= 0 ? 0 : Math.max(1000, Math.round(cpuLimit * CPU_PERIOD_US));
  }
}
