package dev.kavach.internal.host;

import dev.kavach.internal.exec.Exec;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Reads this host's facts from {@code /proc}, {@code /sys}, {@code /dev} and {@code PATH}. The
 * parsing lives in small pure types ({@link SeccompStatus}, {@link CgroupLayout}, ...) that are
 * tested on fixture strings; this class only reads. Each fact is read once per instance.
 */
public final class HostProbe {
  /** Runtimes and tools kavach may drive, in the order {@code kavach doctor} lists them. */
  public static final List<String> TOOLS =
      List.of(
          "runc",
          "crun",
          "runsc",
          "podman",
          "docker",
          "qemu-system-x86_64",
          "firecracker",
          "jailer",
          "gramine-sgx",
          "bwrap",
          "unshare");

  /** Device nodes whose presence matters to some backend. */
  public static final List<String> DEVICES =
      List.of("/dev/kvm", "/dev/sgx_enclave", "/dev/sev", "/dev/sev-guest", "/dev/tdx_guest");

  private final Map<String, Optional<Tool>> tools = new ConcurrentHashMap<>();
  private final String path;
  private volatile @Nullable CgroupLayout cgroups;
  private volatile @Nullable UserNamespaces userNamespaces;

  private HostProbe(String path) {
    this.path = path;
  }

  /** A probe of this host, searching the JVM's {@code PATH} (plus the sbin directories). */
  public static HostProbe system() {
    String p = System.getenv("PATH");
    return new HostProbe(
        (p == null ? "" : p) + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  }

  /** The effective uid of this JVM, from {@code /proc/self/status}. */
  public int uid() {
    for (String line : read("/proc/self/status").split("\n")) {
      if (line.startsWith("Uid:")) {
        String[] f = line.substring(4).trim().split("\\s+");
        return Integer.parseInt(f[1]);
      }
    }
    return -1;
  }

  /** The kernel release ({@code uname -r}). */
  public String kernelRelease() {
    return read("/proc/sys/kernel/osrelease").trim();
  }

  /** Seccomp support and this JVM's own mode. */
  public SeccompStatus seccomp() {
    return SeccompStatus.parse(read("/proc/self/status"));
  }

  /**
   * The active LSMs from {@code /sys/kernel/security/lsm}, or empty when securityfs is not mounted
   * (then only a Landlock syscall can tell).
   */
  public Optional<List<String>> securityModules() {
    Path lsm = Path.of("/sys/kernel/security/lsm");
    if (!Files.isReadable(lsm)) {
      return Optional.empty();
    }
    return Optional.of(List.of(read(lsm.toString()).trim().split(",")));
  }

  /** Where the cgroup controllers live. */
  public CgroupLayout cgroups() {
    CgroupLayout c = cgroups;
    if (c == null) {
      c = CgroupLayout.parseMounts(read("/proc/self/mounts"));
      if (c.v2Mount() != null) {
        c = c.withV2Controllers(read(c.v2Mount() + "/cgroup.controllers"));
      }
      cgroups = c;
    }
    return c;
  }

  /** This JVM's cgroup per hierarchy, from {@code /proc/self/cgroup}. */
  public Map<String, String> ownCgroups() {
    return ProcCgroup.parse(read("/proc/self/cgroup"));
  }

  /** Whether new user namespaces can be created, and why not. */
  public UserNamespaces userNamespaces() {
    UserNamespaces u = userNamespaces;
    if (u == null) {
      u = probeUserNamespaces();
      userNamespaces = u;
    }
    return u;
  }

  private UserNamespaces probeUserNamespaces() {
    String max = read("/proc/sys/user/max_user_namespaces").trim();
    if (max.equals("0")) {
      return new UserNamespaces(false, "user.max_user_namespaces is 0");
    }
    if (read("/proc/sys/kernel/unprivileged_userns_clone").trim().equals("0") && uid() != 0) {
      return new UserNamespaces(false, "kernel.unprivileged_userns_clone is 0");
    }
    if (read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").trim().equals("1")
        && uid() != 0) {
      return new UserNamespaces(
          false,
          "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)");
    }
    Optional<Tool> unshare = tool("unshare");
    if (unshare.isEmpty()) {
      return new UserNamespaces(
          !max.isEmpty(),
          "sysctls allow it (max_user_namespaces=" + max + "); not tried: no unshare binary");
    }
    Exec.Result r =
        Exec.run(
            Exec.command(
                    List.of(
                        unshare.get().path().toString(), "--user", "--map-root-user", "/bin/true"))
                .timeout(Duration.ofSeconds(5))
                .build());
    if (r.exitValue() == 0) {
      return new UserNamespaces(true, "created one (max_user_namespaces=" + max + ")");
    }
    return new UserNamespaces(false, "unshare --user failed: " + r.stderrText().trim());
  }

  /** Hardware virtualization facts. */
  public Virtualization virtualization() {
    List<String> modules = new ArrayList<>();
    for (String m : List.of("kvm_intel", "kvm_amd", "kvm_pvm")) {
      if (Files.isDirectory(Path.of("/sys/module", m))) {
        modules.add(m);
      }
    }
    return new Virtualization(
        Files.exists(Path.of("/dev/kvm")),
        Virtualization.parseCpuFlags(read("/proc/cpuinfo")),
        modules);
  }

  /** Which of {@link #DEVICES} exist. */
  public Map<String, Boolean> devices() {
    Map<String, Boolean> out = new LinkedHashMap<>();
    for (String d : DEVICES) {
      out.put(d, Files.exists(Path.of(d)));
    }
    return out;
  }

  /** An executable regular file named {@code name} on the search path, with its version. */
  public Optional<Tool> tool(String name) {
    return tools.computeIfAbsent(name, n -> which(n).map(p -> new Tool(n, p, version(p))));
  }

  /** The first executable regular file named {@code name} on the search path. */
  public Optional<Path> which(String name) {
    if (name.contains("/")) {
      Path p = Path.of(name);
      return Files.isRegularFile(p) && Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
    }
    for (String dir : path.split(":")) {
      if (dir.isEmpty() || !dir.startsWith("/")) {
        continue; // A relative PATH entry would make the result depend on the working directory.
      }
      Path p = Path.of(dir, name);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(p.toAbsolutePath());
      }
    }
    return Optional.empty();
  }

  private static String version(Path tool) {
    try {
      Exec.Result r =
          Exec.run(
              Exec.command(List.of(tool.toString(), "--version"))
                  .timeout(Duration.ofSeconds(5))
                  .outputLimit(8192)
                  .build());
      String text = (r.stdoutText() + "\n" + r.stderrText()).trim();
      if (r.timedOut() || text.isEmpty()) {
        return "unknown";
      }
      return text.split("\n", 2)[0].trim();
    } catch (RuntimeException e) {
      return "unknown";
    }
  }

  /**
   * Reads a small text file; a missing or unreadable file reads as empty. Streams to end-of-file
   * rather than trusting the reported size: {@code Files.readAllBytes} returned "9" for a {@code
   * /proc/sys/user/max_user_namespaces} holding "96365" on this project's hosts.
   */
  public static String read(String file) {
    try (InputStream in = new FileInputStream(file)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  /**
   * Whether user namespaces can be created here.
   *
   * @param available whether creating one works
   * @param reason what was found
   */
  public record UserNamespaces(boolean available, String reason) {}
}
