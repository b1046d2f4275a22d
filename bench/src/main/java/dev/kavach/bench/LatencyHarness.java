package dev.kavach.bench;

import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.process.seccomp.Arch;
import dev.kavach.backend.process.seccomp.SeccompCompiler;
import dev.kavach.backend.process.seccomp.SeccompProfile;
import dev.kavach.internal.exec.Exec;
import dev.kavach.policy.SandboxPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Whole-process spawn latency: how long one exec of {@code /bin/true} takes from the JVM, p50 and
 * p95, for each mechanism, measured in one run and interleaved (one exec of each in a fresh random
 * order every round), so that the machine's load falls on all of them alike.
 *
 * <ul>
 *   <li>{@code direct}: {@code /bin/true} spawned by the same {@code Exec} wrapper (ProcessBuilder,
 *       pipes for stdout and stderr) every backend uses: the floor;
 *   <li>{@code process-minimal|basic|strict}: {@code Sandbox.exec} on a started process sandbox
 *       with that preset (launcher, namespaces, view, Landlock, seccomp, cgroups, report, score);
 *       the backend prepares each next launch between execs;
 *   <li>{@code process-strict-cold}: the same with preparing turned off: the spawn and the cgroup
 *       join are inside every exec;
 *   <li>{@code bwrap}: bubblewrap with comparable isolation: read-only root, every namespace, fresh
 *       /proc, /dev, tmpfs /tmp, no capabilities, and the same strict seccomp program;
 *   <li>{@code unshare}: {@code unshare -Urnpf --mount-proc}: namespaces only.
 * </ul>
 *
 * <pre>{@code
 * bench/latency.sh            # 300 execs of each after 20 warm-up execs
 * bench/latency.sh 1000 50    # execs, warm-up execs
 * }</pre>
 */
public final class LatencyHarness {
  private static final List<String> BWRAP =
      List.of(
          "bwrap",
          "--ro-bind",
          "/",
          "/",
          "--unshare-all",
          "--die-with-parent",
          "--new-session",
          "--cap-drop",
          "ALL",
          "--proc",
          "/proc",
          "--dev",
          "/dev",
          "--tmpfs",
          "/tmp",
          "--seccomp",
          "0",
          "/bin/true");

  private LatencyHarness() {}

  /** One mechanism. */
  private interface Case {
    void run() throws Exception;
  }

  /** Runs the harness: args are the number of measured execs and of warm-up execs. */
  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 300;
    int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    byte[] strictBpf =
        SeccompCompiler.compile(SeccompProfile.resolve("strict"), Arch.host(), true).bytes();
    List<Sandbox> sandboxes = new ArrayList<>();
    Map<String, Case> cases = new LinkedHashMap<>();
    cases.put("direct", () -> check(run(List.of("/bin/true"), new byte[0]), "direct"));
    for (String preset : List.of("minimal", "basic", "strict", "strict-cold")) {
      boolean cold = preset.endsWith("-cold");
      if (cold) {
        // The backend prepares the next launch (spawned, in its cgroups) between execs; this
        // case turns that off to show the cost it hides.
        System.setProperty("kavach.process.prepare", "false");
      }
      Sandbox s =
          Sandbox.create(
              SandboxConfig.builder()
                  .backend("process")
                  .policy(SandboxPolicy.preset(preset.replace("-cold", "")))
                  .build());
      System.clearProperty("kavach.process.prepare");
      s.start();
      sandboxes.add(s);
      cases.put(
          "process-" + preset,
          () -> {
            if (!s.exec(List.of("/bin/true")).succeeded()) {
              throw new IllegalStateException("process-" + preset + " failed");
            }
          });
    }
    cases.put("bwrap", () -> check(run(BWRAP, strictBpf), "bwrap"));
    cases.put(
        "unshare",
        () ->
            check(
                run(List.of("unshare", "-Urnpf", "--mount-proc", "/bin/true"), new byte[0]),
                "unshare"));
    try {
      for (int i = 0; i < warmup; i++) {
        for (Case c : cases.values()) {
          c.run();
        }
      }
      Map<String, long[]> nanos = new LinkedHashMap<>();
      cases.keySet().forEach(k -> nanos.put(k, new long[n]));
      String loadBefore = load();
      // A fresh random order every round, so no mechanism always follows the same neighbour.
      List<String> order = new ArrayList<>(cases.keySet());
      Random random = new Random(42);
      for (int i = 0; i < n; i++) {
        Collections.shuffle(order, random);
        for (String name : order) {
          long t0 = System.nanoTime();
          cases.get(name).run();
          nanos.get(name)[i] = System.nanoTime() - t0;
        }
      }
      String table = table(nanos, n, warmup, loadBefore, load());
      System.out.println(table);
      Path out = Path.of("bench", "results");
      if (Files.isDirectory(out.getParent())) {
        Files.createDirectories(out);
        Files.writeString(out.resolve("latency-" + LocalDate.now() + ".md"), table);
      }
    } finally {
      sandboxes.forEach(Sandbox::close);
    }
  }

  private static Exec.Result run(List<String> argv, byte[] stdin) {
    return Exec.run(Exec.command(argv).stdin(stdin).timeout(Duration.ofSeconds(30)).build());
  }

  private static void check(Exec.Result r, String name) {
    if (r.exitValue() != 0) {
      throw new IllegalStateException(
          name + " failed (exit " + r.exitValue() + "): " + r.stderrText().strip());
    }
  }

  private static double percentile(long[] sorted, double p) {
    int i = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
  }

  private static String table(
      Map<String, long[]> nanos, int n, int warmup, String loadBefore, String loadAfter) {
    Map<String, double[]> p = new LinkedHashMap<>();
    nanos.forEach(
        (k, v) -> {
          long[] s = v.clone();
          Arrays.sort(s);
          p.put(k, new double[] {percentile(s, 0.50), percentile(s, 0.95)});
        });
    double direct = p.get("direct")[0];
    double bwrap = p.get("bwrap")[0];
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            "Spawn latency of /bin/true, %d execs of each (after %d warm-up), interleaved;"
                + " %s, Java %s; load average before %s, after %s%n%n",
            n,
            warmup,
            System.getProperty("os.version"),
            System.getProperty("java.version"),
            loadBefore,
            loadAfter));
    b.append("| mechanism | p50 ms | p95 ms | p50 / direct | p50 / bwrap |\n");
    b.append("|---|---|---|---|---|\n");
    p.forEach(
        (k, v) ->
            b.append(
                String.format(
                    "| %s | %.2f | %.2f | %.2fx | %.2fx |%n",
                    k, v[0], v[1], v[0] / direct, v[0] / bwrap)));
    return b.toString();
  }

  private static String load() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (java.io.IOException e) {
      return "?";
    }
  }
}
