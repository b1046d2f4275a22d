package dev.kavach.backend.oci;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Availability;
import dev.kavach.backend.Backend;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Backends;
import dev.kavach.backend.Capability;
import dev.kavach.internal.container.ContainerBackend;
import dev.kavach.internal.container.ContainerPlan;
import dev.kavach.internal.container.OciRuntimeDriver;
import dev.kavach.internal.container.OciRuntimeDriver.Kind;
import dev.kavach.internal.host.CgroupLayout;
import dev.kavach.internal.host.HostProbe;
import dev.kavach.internal.host.Tool;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What the three {@code oci} providers share: finding runc or crun, the crun workaround for hybrid
 * cgroup hosts, the capabilities, and opening a {@link ContainerBackend}.
 */
final class OciRuntimes {

  private OciRuntimes() {}

  /** What runc and crun containers enforce here. */
  static Set<Capability> capabilities() {
    return ContainerBackend.capabilities();
  }

  /** A runtime found on this host, with the command that runs it. */
  record Found(Kind kind, Tool tool, List<String> command, List<String> notes) {}

  /** Looks for one runtime; empty with the reason in {@code why} when it cannot run here. */
  static Optional<Found> find(Kind kind, HostProbe host, List<String> why) {
    Optional<Tool> tool = host.tool(kind.command());
    if (tool.isEmpty()) {
      why.add(kind.command() + " not found on PATH");
      return Optional.empty();
    }
    if (host.uid() != 0) {
      why.add(
          kind.command()
              + " found, but kavach runs OCI runtimes as root only (rootless containers are not"
              + " supported yet)");
      return Optional.empty();
    }
    List<String> command = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    notes.add("runtime " + tool.get().version() + " (" + tool.get().path() + ")");
    CgroupLayout cgroups = host.cgroups();
    if (kind == Kind.CRUN && needsV1View(cgroups)) {
      // crun refuses hybrid hosts whose v2 mount has a controller ("cgroups in hybrid mode not
      // supported, drop all controllers from cgroupv2"). Every crun command therefore runs in a
      // private mount namespace in which the v2 mount is unmounted: crun sees pure v1, and since
      // each command sees the same view, create, exec, pause and delete agree. The container's
      // own namespaces are unaffected.
      Optional<Path> unshare = host.which("unshare");
      Optional<Path> sh = host.which("sh");
      if (unshare.isEmpty() || sh.isEmpty()) {
        why.add(
            "crun refuses this hybrid cgroup host and the workaround needs unshare and sh,"
                + " which are missing");
        return Optional.empty();
      }
      command.addAll(
          List.of(
              unshare.get().toString(),
              "--mount",
              "--propagation",
              "private",
              sh.get().toString(),
              "-c",
              "umount " + quote(cgroups.v2Mount()) + " && exec \"$0\" \"$@\""));
      notes.add(
          "crun runs in a private mount namespace without "
              + cgroups.v2Mount()
              + " (it refuses hybrid cgroup hosts)");
    }
    command.add(tool.get().path().toString());
    command.add("--root");
    command.add(OciRuntimeDriver.stateRoot(kind).toString());
    return Optional.of(new Found(kind, tool.get(), command, notes));
  }

  /** Availability of the first runtime of {@code kinds} that can run here. */
  static Availability probe(List<Kind> kinds) {
    HostProbe host = HostProbe.system();
    List<String> why = new ArrayList<>();
    for (Kind k : kinds) {
      Optional<Found> f = find(k, host, why);
      if (f.isPresent()) {
        return Availability.available(String.join("; ", f.get().notes()));
      }
    }
    return Availability.unavailable(String.join("; ", why));
  }

  /** Opens a backend on the first runtime of {@code kinds} that can run here. */
  static Backend open(
      BackendProvider provider,
      List<Kind> kinds,
      String sandboxId,
      SandboxConfig config,
      @Nullable Path rootfs) {
    String name = provider.name();
    HostProbe host = HostProbe.system();
    List<String> why = new ArrayList<>();
    Found found = null;
    for (Kind k : kinds) {
      Optional<Found> f = find(k, host, why);
      if (f.isPresent()) {
        found = f.get();
        break;
      }
    }
    if (found == null) {
      throw new KavachException(
          Reason.BACKEND_UNAVAILABLE, name + " is not available: " + String.join("; ", why));
    }
    List<String> notes = new ArrayList<>(found.notes());
    notes.addAll(unsupported(provider, config));
    ContainerPlan plan = ContainerPlan.of(sandboxId, config, rootfs);
    OciRuntimeDriver driver =
        new OciRuntimeDriver(found.kind(), found.command(), plan, new OciBundle(), notes);
    return new ContainerBackend(name, plan, driver, config.policy().bestEffort());
  }

  /**
   * Notes for requested controls this backend cannot apply (only reachable with a best-effort
   * policy: otherwise selection refused the backend).
   */
  static List<String> unsupported(BackendProvider provider, SandboxConfig config) {
    List<String> notes = new ArrayList<>();
    for (String m : Backends.missingCapabilities(provider, config.policy())) {
      notes.add("not enforced (best effort): " + m);
    }
    return notes;
  }

  private static boolean needsV1View(CgroupLayout cgroups) {
    return cgroups.v2Mount() != null
        && !cgroups.v1().isEmpty()
        && !cgroups.v2Controllers().isEmpty();
  }

  private static String quote(@Nullable String s) {
    return "'" + String.valueOf(s).replace("'", "'\\''") + "'";
  }
}
