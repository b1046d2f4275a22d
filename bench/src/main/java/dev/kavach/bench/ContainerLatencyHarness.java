package dev.kavach.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Backends;
import dev.kavach.backend.syagnos.SyAgnosBackendProvider;
import dev.kavach.internal.container.CgroupDirs;
import dev.kavach.internal.exec.Exec;
import dev.kavach.policy.SandboxPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-exec latency of the container backends next to their raw runtimes on the same container and
 * bundle, all in one run and interleaved (one exec of each case per round, in a random order, so
 * the machine's load and the kernel's deferred cleanup fall on all alike). Needs root and the
 * runtimes. For each backend:
 *
 * <ul>
 *   <li>{@code kavach}: {@code Sandbox.exec(["true"])} under the minimal policy: env file, process
 *       spec, the runtime's exec of {@code kavach-agent-oci exec -- true}, status file, result;
 *   <li>{@code exec}: the runtime's own exec of {@code /bin/true} in the same running container
 *       with the same uid, capabilities and no_new_privs (the baseline of the 10% target);
 *   <li>{@code run}: the runtime's run of {@code /bin/true} in a fresh container from the same
 *       bundle or image (what a container per exec would cost), for reference.
 * </ul>
 *
 * Every case is spawned by the same {@code Exec} wrapper (pipes for the output) that the backends
 * use. crun runs behind its mount-namespace wrapper in all three cases (it refuses this machine
 * kind's hybrid cgroup layout without it); sy-agnos runs a busybox image imported into a private
 * podman store.
 *
 * <pre>{@code
 * bench/containers.sh                       # 100 execs of each after 10 warm-up rounds
 * bench/containers.sh 200 20 oci-runc gvisor
 * }</pre>
 */
public final class ContainerLatencyHarness {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> BACKENDS =
      List.of("oci-runc", "oci-crun", "gvisor", "sy-agnos");
  private static final Map<String, String> ENV =
      Map.of("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");

  private ContainerLatencyHarness() {}

  /** One backend's sandbox and its raw command lines. */
  private static final class Subject implements AutoCloseable {
    final List<Path> cleanup = new ArrayList<>();
    List<String> podman = List.of();
    Sandbox sandbox;
    List<String> exec;
    List<String> run;

    @Override
    public void close() throws IOException {
      if (sandbox != null) {
        sandbox.close();
      }
      if (!podman.isEmpty()) {
        List<String> rmi = new ArrayList<>(podman);
        rmi.addAll(List.of("rmi", "--all", "--force"));
        spawn(rmi);
      }
      for (Path p : cleanup) {
        try (var files = Files.walk(p)) {
          files.sorted((a, b) -> b.compareTo(a)).forEach(f -> f.toFile().delete());
        }
      }
    }
  }

  /** Runs the harness: measured execs, warm-up rounds, then backends (default: all four). */
  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    List<String> backends =
        args.length > 2 ? Arrays.asList(args).subList(2, args.length) : BACKENDS;
    List<Subject> subjects = new ArrayList<>();
    Map<String, List<String>> raw = new LinkedHashMap<>();
    Map<String, Sandbox> boxes = new LinkedHashMap<>();
    try {
      for (String b : backends) {
        Subject s = b.equals("sy-agnos") ? podman() : oci(b);
        subjects.add(s);
        boxes.put(b, s.sandbox);
        raw.put(b + " exec", s.exec);
        raw.put(b + " run", s.run);
      }
      List<String> order = new ArrayList<>();
      for (String b : backends) {
        order.add(b + " kavach");
        order.add(b + " exec");
        order.add(b + " run");
      }
      Map<String, long[]> nanos = new LinkedHashMap<>();
      order.forEach(k -> nanos.put(k, new long[n]));
      // A fresh random order each round: a case that follows a container's creation and removal
      // (a run case) pays for the kernel's deferred cleanup, so no case may always come after it.
      java.util.Random random = new java.util.Random(42);
      for (int i = -warmup; i < n; i++) {
        java.util.Collections.shuffle(order, random);
        for (String k : order) {
          long t0 = System.nanoTime();
          if (k.endsWith(" kavach")) {
            Sandbox s = boxes.get(k.substring(0, k.length() - " kavach".length()));
            if (!s.exec(List.of("true")).succeeded()) {
              throw new IllegalStateException(k + " failed");
            }
          } else {
            spawn(raw.get(k));
          }
          if (i >= 0) {
            nanos.get(k)[i] = System.nanoTime() - t0;
          }
        }
      }
      System.out.println(table(nanos, backends, n, warmup));
    } finally {
      for (Subject s : subjects) {
        s.close();
      }
    }
  }

  private static Subject oci(String backend) throws IOException {
    Subject s = new Subject();
    s.sandbox =
        Sandbox.create(
            SandboxConfig.builder().backend(backend).policy(SandboxPolicy.minimal()).build());
    s.sandbox.start();
    String id = "kavach-" + s.sandbox.id();
    Path bundle = Path.of("/dev/shm", id, "bundle");
    Path scratch = Files.createTempDirectory(Path.of("/dev/shm"), "kavach-bench-");
    s.cleanup.add(scratch);
    List<String> runtime = runtime(backend);
    ObjectNode config = (ObjectNode) JSON.readTree(bundle.resolve("config.json").toFile());
    ObjectNode process = (ObjectNode) config.get("process").deepCopy();
    process.putArray("args").add("/bin/true");
    process.putArray("env").add("PATH=/usr/bin:/bin");
    Path processJson = scratch.resolve("process.json");
    JSON.writeValue(processJson.toFile(), process);
    s.exec = new ArrayList<>(runtime);
    s.exec.addAll(List.of("exec", "--process", processJson.toString(), id));
    // A second bundle: the same root and mounts, /bin/true first, a cgroup of its own.
    Path raw = Files.createDirectories(scratch.resolve("bundle"));
    config.set("process", process);
    // Flat, like the backend's own groups: runc creates missing parents but removes only the leaf.
    ((ObjectNode) config.get("linux"))
        .put("cgroupsPath", "/" + CgroupDirs.name(s.sandbox.id()) + "-raw");
    JSON.writeValue(raw.resolve("config.json").toFile(), config);
    s.run = new ArrayList<>(runtime);
    s.run.addAll(List.of("run", "--bundle", raw.toString(), id + "-raw"));
    return s;
  }

  private static List<String> runtime(String backend) {
    return switch (backend) {
      case "oci-runc" -> List.of("runc", "--root", "/run/kavach/runc");
      case "oci-crun" ->
          List.of(
              "unshare",
              "--mount",
              "--propagation",
              "private",
              "sh",
              "-c",
              "umount '/sys/fs/cgroup/unified' && exec \"$0\" \"$@\"",
              "crun",
              "--root",
              "/run/kavach/crun");
      case "gvisor" ->
          List.of("runsc", "--root", "/run/kavach/runsc", "--platform=ptrace", "--network=none");
      default -> throw new IllegalArgumentException("unknown backend " + backend);
    };
  }

  /**
   * sy-agnos on a busybox image imported into a private podman store; the raw cases are {@code
   * podman exec} in the same container and {@code podman run --rm} with the flags this host needs.
   */
  private static Subject podman() throws IOException {
    Subject s = new Subject();
    // podman refuses a runroot longer than 50 characters.
    Path store =
        Files.createDirectories(Path.of("/dev/shm", "kavach-pmb-" + ProcessHandle.current().pid()));
    s.cleanup.add(store);
    List<String> args =
        List.of(
            "--root", store.resolve("root").toString(),
            "--runroot", store.resolve("run").toString(),
            "--tmpdir", store.resolve("tmp").toString());
    Path rootfs = Files.createDirectories(store.resolve("rootfs"));
    Path bin = Files.createDirectories(rootfs.resolve("bin"));
    Files.copy(Path.of("/bin/busybox"), bin.resolve("busybox"));
    for (String applet : List.of("sh", "true", "cat")) {
      Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
    }
    Files.createDirectories(rootfs.resolve("etc"));
    Files.writeString(rootfs.resolve("etc/sy-agnos-release"), "tier=dmverity\n");
    Path tar = store.resolve("rootfs.tar");
    spawn(List.of("tar", "-C", rootfs.toString(), "-cf", tar.toString(), "."));
    s.podman = new ArrayList<>(List.of("podman"));
    s.podman.addAll(args);
    List<String> imp = new ArrayList<>(s.podman);
    imp.addAll(List.of("import", tar.toString(), "localhost/kavach-bench:1"));
    spawn(imp);
    BackendProvider p = new SyAgnosBackendProvider("localhost/kavach-bench:1", args);
    s.sandbox =
        Sandbox.create(
            SandboxConfig.builder().backend(p.name()).policy(SandboxPolicy.minimal()).build(),
            Backends.of(List.of(p)));
    s.sandbox.start();
    String id = "kavach-" + s.sandbox.id();
    s.exec = new ArrayList<>(s.podman);
    s.exec.addAll(List.of("exec", "--user", "65534:65534", id, "/bin/true"));
    s.run = new ArrayList<>(s.podman);
    s.run.addAll(
        List.of(
            "run",
            "--rm",
            "--runtime",
            "runc",
            "--network",
            "none",
            "--read-only",
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges",
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=32768:32768",
            "--user",
            "65534:65534",
            "--log-driver",
            "none",
            "localhost/kavach-bench:1",
            "/bin/true"));
    return s;
  }

  private static void spawn(List<String> argv) {
    Exec.Result r = Exec.run(Exec.command(argv).env(ENV).timeout(Duration.ofSeconds(60)).build());
    if (r.exitValue() != 0) {
      throw new IllegalStateException(argv + " exited " + r.exitValue() + ": " + r.stderrText());
    }
  }

  private static double percentile(long[] sorted, double p) {
    int i = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
  }

  private static String table(Map<String, long[]> nanos, List<String> backends, int n, int warmup)
      throws IOException {
    Map<String, double[]> p = new LinkedHashMap<>();
    nanos.forEach(
        (k, v) -> {
          long[] s = v.clone();
          Arrays.sort(s);
          p.put(k, new double[] {percentile(s, 0.50), percentile(s, 0.90)});
        });
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            "Per-exec latency of true, %d execs of each case (after %d warm-up rounds),"
                + " interleaved; kernel %s, Java %s; load average at the end %s%n%n",
            n,
            warmup,
            System.getProperty("os.version"),
            System.getProperty("java.version"),
            Files.readString(Path.of("/proc/loadavg")).trim()));
    b.append(
        "| backend | kavach p50 ms | runtime exec p50 ms | kavach / exec (p50) | kavach p90 |"
            + " exec p90 | runtime run p50 ms |\n");
    b.append("|---|---|---|---|---|---|---|\n");
    for (String be : backends) {
      double[] k = p.get(be + " kavach");
      double[] e = p.get(be + " exec");
      double[] r = p.get(be + " run");
      b.append(
          String.format(
              "| %s | %.1f | %.1f | %.2fx | %.1f | %.1f | %.1f |%n",
              be, k[0], e[0], k[0] / e[0], k[1], e[1], r[0]));
    }
    return b.toString();
  }
}
