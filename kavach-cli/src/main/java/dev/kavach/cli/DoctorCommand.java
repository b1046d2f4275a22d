package dev.kavach.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.kavach.backend.process.HostSupport;
import dev.kavach.backend.process.ProcessBackendProvider;
import dev.kavach.internal.host.CgroupLayout;
import dev.kavach.internal.host.HostProbe;
import dev.kavach.internal.host.SeccompStatus;
import dev.kavach.internal.host.Tool;
import dev.kavach.internal.host.Virtualization;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kavach doctor}: every host check, its result, and what it enables. */
@Command(
    name = "doctor",
    mixinStandardHelpOptions = true,
    description =
        "Check this host: what each kernel feature, runtime and device enables or rules out.")
final class DoctorCommand implements Callable<Integer>, IoStreams.NeedsStreams {
  @Option(names = "--json", description = "Print as JSON.")
  boolean json;

  private IoStreams io = new IoStreams(System.out, System.err);

  @Override
  public void streams(IoStreams streams) {
    this.io = streams;
  }

  /**
   * One check.
   *
   * @param name what was checked
   * @param ok whether it is usable
   * @param detail what was found
   * @param consequence which backends or controls it enables (or rules out)
   */
  record Check(String name, boolean ok, String detail, String consequence) {}

  static List<Check> checks(HostProbe host) {
    return checks(host, new ProcessBackendProvider().hostSupport());
  }

  /** The checks, with what the process launcher's own probe measured. */
  static List<Check> checks(HostProbe host, HostSupport launcher) {
    List<Check> out = new ArrayList<>();
    out.add(
        new Check("kernel", true, host.kernelRelease(), "Linux namespaces, seccomp and Landlock"));
    int uid = host.uid();
    out.add(
        new Check(
            "privileges",
            true,
            uid == 0 ? "running as root" : "running as uid " + uid,
            uid == 0
                ? "process backend runs commands as an unprivileged mapped uid; cgroup limits usable"
                : "process backend works through user namespaces; limits need cgroup delegation"));
    SeccompStatus sc = host.seccomp();
    out.add(
        new Check(
            "seccomp",
            sc.available(),
            sc.available() ? "supported (this JVM: " + sc.mode() + ")" : "kernel without seccomp",
            "seccomp profiles on process, oci and gvisor backends"));
    Optional<List<String>> lsm = host.securityModules();
    String lsms = lsm.map(l -> "; active LSMs: " + String.join(",", l)).orElse("");
    out.add(
        new Check(
            "landlock",
            launcher.landlock(),
            launcher.landlock()
                ? "ABI " + launcher.landlockAbi() + " (kavach-launch --probe)" + lsms
                : "unavailable: " + launcher.landlockReason() + lsms,
            "filesystem write confinement, TCP port rules (ABI >= 4) and signal and"
                + " abstract-socket scoping (ABI >= 6) on the process backend"));
    out.add(
        new Check(
            "process-launcher",
            launcher.usable(),
            launcher.describe(),
            "the process backend (kavach-launch, extracted from the jar and verified)"));
    HostProbe.UserNamespaces userns = host.userNamespaces();
    out.add(
        new Check(
            "user-namespaces",
            userns.available(),
            userns.reason(),
            "process backend uid mapping; running without root"));
    CgroupLayout cg = host.cgroups();
    Map<String, String> where = new TreeMap<>();
    for (String c : List.of("memory", "pids", "cpu", "freezer")) {
      where.put(c, cg.versionOf(c).orElse("absent"));
    }
    out.add(
        new Check(
            "cgroups",
            cg.hasLimitControllers(),
            cg.mode()
                + " layout; controllers: "
                + where
                + (cg.v2Mount() == null ? "" : "; v2 at " + cg.v2Mount()),
            "memory, CPU and process limits; pause/resume; per-exec CPU and memory accounting"));
    Virtualization v = host.virtualization();
    out.add(
        new Check("virtualization", v.hardwareKvm(), v.explain(), "microvm, sev and tdx backends"));
    for (Map.Entry<String, Boolean> d : host.devices().entrySet()) {
      if (d.getKey().equals("/dev/kvm")) {
        continue;
      }
      out.add(
          new Check(
              d.getKey(),
              d.getValue(),
              d.getValue() ? "present" : "absent",
              switch (d.getKey()) {
                case "/dev/sgx_enclave" -> "sgx backend";
                case "/dev/sev", "/dev/sev-guest" -> "sev backend";
                default -> "tdx backend";
              }));
    }
    for (String name : HostProbe.TOOLS) {
      Optional<Tool> t = host.tool(name);
      out.add(
          new Check(
              name,
              t.isPresent(),
              t.map(x -> x.path() + " (" + x.version() + ")").orElse("not found on PATH"),
              switch (name) {
                case "runc", "crun" -> "oci backend";
                case "runsc" -> "gvisor backend";
                case "podman", "docker" -> "sy-agnos backend";
                case "qemu-system-x86_64" -> "sev and tdx backends";
                case "firecracker", "jailer" -> "microvm backend";
                case "gramine-sgx" -> "sgx backend";
                case "bwrap" -> "benchmark baseline only";
                default -> "host probes";
              }));
    }
    return out;
  }

  @Override
  public Integer call() {
    List<Check> checks = checks(HostProbe.system());
    if (json) {
      ArrayNode arr = Json.array();
      for (Check c : checks) {
        arr.addObject()
            .put("check", c.name())
            .put("ok", c.ok())
            .put("detail", c.detail())
            .put("enables", c.consequence());
      }
      io.out().println(Json.write(arr));
      return 0;
    }
    for (Check c : checks) {
      io.out().printf("%-4s %-20s %s%n", c.ok() ? "ok" : "--", c.name(), c.detail());
      io.out().printf("     %-20s -> %s%n", "", c.consequence());
    }
    return 0;
  }
}
