package dev.kavach.backend.process.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.ResourceUsage;
import dev.kavach.backend.Enforcement;
import dev.kavach.internal.exec.Exec;
import dev.kavach.internal.host.CgroupLayout;
import dev.kavach.testing.Leftovers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Real cgroups on this host: each test creates its own sandbox groups, runs real programs in them
 * that try to exceed the limit, and checks the kernel's answer. Runs against the host's layout and,
 * on a hybrid host, the same without v2 (the pure-v1 paths: freezer kill, cpuacct).
 */
@Timeout(120)
class SandboxCgroupTest {
  private static final long MIB = 1024 * 1024;

  private final List<SandboxCgroup> created = new ArrayList<>();
  private final List<Path> mustBeGone = new ArrayList<>();
  private final List<String> markers = new ArrayList<>();

  @BeforeEach
  void needsCgroups() {
    CgroupHost.assumeRootWithCgroups();
  }

  @AfterEach
  void nothingLeftBehind() {
    for (SandboxCgroup cg : created) {
      cg.destroy();
    }
    for (Path p : mustBeGone) {
      assertThat(p).as("left behind after destroy").doesNotExist();
    }
    for (String m : markers) {
      assertThat(Leftovers.processesMatchingAfter(m, 5000)).as("processes " + m).isEmpty();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.kavach.backend.process.cgroup.CgroupHost#layouts")
  void createAndDestroyLeaveNothing(String name, CgroupLayout layout) {
    SandboxCgroup cg = sandbox(layout, new CgroupLimits(64 * MIB, 0.5, 32));
    assertThat(cg.notes()).isEmpty();
    assertThat(cg.inForce()).isEqualTo(new CgroupLimits(64 * MIB, 0.5, 32));
    for (Path d : cg.directories()) {
      assertThat(d).isDirectory();
      assertThat(d.getParent().getFileName().toString()).isEqualTo(Owner.current().dirName());
      assertThat(d.getParent().getParent().getFileName().toString()).isEqualTo("kavach");
      assertThat(d.getFileName().toString()).isEqualTo(cg.sandboxId());
    }
    // Nested under the JVM's own cgroup, so the JVM's limits hold for the sandbox too.
    Path memory = Path.of(layout.v1().get("memory"));
    Path ownMemory = SandboxCgroup.ownDir(memory, CgroupHost.own().get("memory"));
    assertThat(cg.directories()).anyMatch(d -> d.startsWith(ownMemory) && d.startsWith(memory));

    ExecCgroup a = exec(cg);
    ExecCgroup b = exec(cg);
    assertThat(a.directories()).hasSameSizeAs(cg.directories()).allMatch(Files::isDirectory);
    assertThat(a.procsFiles()).allMatch(Files::isRegularFile);
    assertThat(b.directories()).allMatch(Files::isDirectory);

    cg.destroy();
    for (Path d : concat(cg.directories(), a.directories(), b.directories())) {
      assertThat(d).doesNotExist();
    }
    cg.destroy(); // idempotent
    a.destroy();
    assertThatThrownBy(() -> cg.newExec("late"))
        .isInstanceOf(KavachException.class)
        .satisfies(e -> assertThat(((KavachException) e).reason()).isEqualTo(Reason.INVALID_STATE));
  }

  @Test
  void reportsTheLimitsInForce() {
    SandboxCgroup cg = sandbox(CgroupHost.HOST.cgroups(), new CgroupLimits(100 * MIB, 0.25, 20));
    Enforcement e = cg.reportTo(Enforcement.builder("process")).build();
    assertThat(e.memoryLimitBytes()).isEqualTo(100 * MIB);
    assertThat(e.cpuLimit()).isEqualTo(0.25);
    assertThat(e.pidsLimit()).isEqualTo(20);
    assertThat(e.notes()).isEmpty();
    // v1: swap cannot extend the limit, and the OOM killer is on whatever the JVM's cgroup says.
    Path memory = cgroupDir(cg, "memory");
    if (CgroupHost.HOST.cgroups().versionOf("memory").orElse("").equals("v1")) {
      assertThat(read(memory, "memory.memsw.limit_in_bytes").trim())
          .isEqualTo(Long.toString(100 * MIB));
      assertThat(CgroupFiles.counter(read(memory, "memory.oom_control"), "oom_kill_disable"))
          .isZero();
      assertThat(read(memory, "memory.use_hierarchy").trim()).isEqualTo("1");
      assertThat(read(cgroupDir(cg, "cpu"), "cpu.cfs_quota_us").trim()).isEqualTo("25000");
      assertThat(read(cgroupDir(cg, "cpu"), "cpu.cfs_period_us").trim()).isEqualTo("100000");
    }
  }

  @Test
  void withoutAnyFreezerKillStillEmptiesTheGroupAndPauseIsRefused() {
    CgroupLayout real = CgroupHost.HOST.cgroups();
    Map<String, String> v1 = new java.util.HashMap<>(real.v1());
    v1.remove("freezer");
    CgroupLayout noFreezer = new CgroupLayout(v1, null, Set.of());
    SandboxCgroup cg = sandbox(noFreezer, new CgroupLimits(0, 0, 64));
    assertThat(cg.canFreeze()).isFalse();
    assertThat(cg.notes()).anyMatch(n -> n.startsWith("pause and resume: unavailable (no"));
    assertThatThrownBy(cg::freeze)
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("cannot pause sandbox " + cg.sandboxId())
        .satisfies(
            e -> assertThat(((KavachException) e).reason()).isEqualTo(Reason.BACKEND_UNAVAILABLE));
    // The plain signal loop: it converges because every child is born inside the group and the
    // pids limit bounds the race.
    killDuringAForkStorm(cg, exec(cg), cg::kill);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.kavach.backend.process.cgroup.CgroupHost#layouts")
  void forkLoopStopsAtThePidsLimit(String name, CgroupLayout layout) {
    String busybox = busybox();
    String marker = marker();
    SandboxCgroup cg = sandbox(layout, new CgroupLimits(0, 0, 20));
    ExecCgroup exec = exec(cg);
    // A real shell forks 40 background sleeps; the 20th process must be refused with EAGAIN.
    Exec.Result r =
        CgroupHost.start(
                List.of(busybox, "sh"),
                exec,
                "0",
                "i=0; while [ $i -lt 40 ]; do i=$((i+1)); "
                    + "sleep "
                    + marker
                    + " </dev/null >/dev/null 2>&1 & done; echo forked $i")
            .await();
    assertThat(r.stderrText()).contains("can't fork: Resource temporarily unavailable");
    assertThat(r.stdoutText()).doesNotContain("forked 40");
    assertThat(exec.pids()).hasSizeLessThanOrEqualTo(20).isNotEmpty();
    long refused = 0;
    for (Path d : concat(exec.directories(), cg.directories())) {
      String events = CgroupIo.readOrNull(d.resolve(CgroupFiles.PIDS_EVENTS));
      if (events != null) {
        refused += Math.max(0, CgroupFiles.counter(events, "max"));
      }
    }
    assertThat(refused).as("pids.events max").isPositive();
    ResourceUsage usage = exec.usage().orElseThrow();
    if (usage.pidsPeak() >= 0) {
      assertThat(usage.pidsPeak()).isBetween(18L, 20L);
    }
    exec.kill();
    assertThat(Leftovers.processesMatching(marker)).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.kavach.backend.process.cgroup.CgroupHost#layouts")
  void memoryHogIsOomKilledAndReportedAsSuch(String name, CgroupLayout layout) {
    SandboxCgroup cg = sandbox(layout, new CgroupLimits(64 * MIB, 0, 0));
    ExecCgroup hog = exec(cg);
    // 1 MiB strings, each written in full, until the kernel says no.
    Exec.Result r =
        CgroupHost.start(hog, "exec perl -e 'my @a; push @a, \"x\" x (1 << 20) while 1'").await();
    assertThat(r.exitValue()).as(r.stderrText()).isEqualTo(128 + 9);
    assertThat(hog.oomKilled()).isTrue();
    long peak = hog.usage().orElseThrow().memoryPeakBytes();
    assertThat(peak).isBetween(32 * MIB, 64 * MIB);

    // The same program with a bound stays under the limit: exits 0, no OOM kill reported.
    ExecCgroup small = exec(cg);
    Exec.Result ok =
        CgroupHost.start(
                small,
                "exec perl -e 'my @a; push @a, \"x\" x (1 << 20) for 1 .. 16; print \"done\"'")
            .await();
    assertThat(ok.exitValue()).as(ok.stderrText()).isZero();
    assertThat(ok.stdoutText()).isEqualTo("done");
    assertThat(small.oomKilled()).isFalse();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.kavach.backend.process.cgroup.CgroupHost#layouts")
  void cpuQuotaOfAQuarterCoreHolds(String name, CgroupLayout layout) throws Exception {
    SandboxCgroup cg = sandbox(layout, new CgroupLimits(0, 0.25, 0));
    ExecCgroup exec = exec(cg);
    Exec.Running busy = CgroupHost.start(exec, "while :; do :; done");
    CgroupHost.awaitJoined(exec, busy);
    long t0 = System.nanoTime();
    Thread.sleep(2000);
    Duration cpu = exec.usage().orElseThrow().cpuTime();
    double wall = (System.nanoTime() - t0) / 1e9;
    exec.kill();
    // Measured by the cgroup itself; CPU used before t0 only makes the check stricter.
    double cores = cpu.toNanos() / 1e9 / wall;
    assertThat(cores).as("cores used over %.2f s", wall).isLessThanOrEqualTo(0.35);
    assertThat(cores).as("the loop ran at all").isGreaterThan(0.01);
    // The kernel throttled the group: the quota, not a busy machine, is what held the loop back.
    // (On a machine so loaded that the loop got under 0.2 core, it may never reach the quota.)
    long throttled = CgroupFiles.counter(read(cgroupDir(cg, "cpu"), "cpu.stat"), "nr_throttled");
    assertThat(throttled > 0 || cores < 0.2)
        .as("nr_throttled %d at %.2f cores", throttled, cores)
        .isTrue();
    assertThat(busy.await().exitValue()).isEqualTo(137);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.kavach.backend.process.cgroup.CgroupHost#layouts")
  void usageReportsTheCpuTimeOfABusyChild(String name, CgroupLayout layout) throws Exception {
    SandboxCgroup cg = sandbox(layout, CgroupLimits.none());
    ExecCgroup exec = exec(cg);
    Exec.Running busy = CgroupHost.start(exec, "sh -c 'while :; do :; done'");
    CgroupHost.awaitJoined(exec, busy);
    assertThat(CgroupIo.await(() -> exec.pids().size() == 2, Duration.ofSeconds(10), "child"))
        .isTrue();
    long child =
        exec.pids().stream().filter(p -> p != busy.process().pid()).findFirst().orElseThrow();
    Thread.sleep(1000);
    // The child's own CPU time, from /proc, first; the cgroup's count is read after, so it must
    // be at least as large (it also holds the parent shell's share).
    Duration childCpu = CgroupHost.processCpuTime(child);
    ResourceUsage usage = exec.usage().orElseThrow();
    exec.kill();
    assertThat(childCpu).as("the child ran").isPositive();
    assertThat(usage.cpuTime()).isGreaterThanOrEqualTo(childCpu.minusMillis(20));
    assertThat(usage.cpuTime()).isLessThan(childCpu.plusMillis(500));
    assertThat(usage.memoryPeakBytes()).isPositive();
    if (usage.pidsPeak() >= 0) {
      assertThat(usage.pidsPeak()).isGreaterThanOrEqualTo(2);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.kavach.backend.process.cgroup.CgroupHost#layouts")
  void freezeStopsACounterAndThawResumesIt(String name, CgroupLayout layout, @TempDir Path tmp)
      throws Exception {
    SandboxCgroup cg = sandbox(layout, CgroupLimits.none());
    assertThat(cg.canFreeze()).isTrue();
    ExecCgroup exec = exec(cg);
    Path counter = tmp.resolve("counter");
    Exec.Running loop =
        CgroupHost.start(
            exec, "i=0; while :; do i=$((i+1)); echo $i >> " + counter + "; sleep 0.01; done");
    CgroupHost.awaitJoined(exec, loop);
    assertThat(CgroupIo.await(() -> size(counter) > 0, Duration.ofSeconds(10), "counter")).isTrue();

    cg.freeze();
    long frozen = size(counter);
    Thread.sleep(400);
    assertThat(size(counter)).as("counter while frozen").isEqualTo(frozen);
    assertThat(loop.process().isAlive()).isTrue();

    cg.thaw();
    assertThat(CgroupIo.await(() -> size(counter) > frozen, Duration.ofSeconds(10), "counter"))
        .as("counter advances after thaw")
        .isTrue();
    exec.kill();
    assertThat(loop.await().exitValue()).isEqualTo(137);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.kavach.backend.process.cgroup.CgroupHost#layouts")
  void killRemovesASixProcessTree(String name, CgroupLayout layout) {
    String marker = marker();
    SandboxCgroup cg = sandbox(layout, new CgroupLimits(0, 0, 64));
    ExecCgroup exec = exec(cg);
    Exec.Running tree =
        CgroupHost.start(
            exec,
            "for n in 1 2 3 4 5; do sleep " + marker + " </dev/null >/dev/null 2>&1 & done; wait");
    assertThat(CgroupIo.await(() -> exec.pids().size() == 6, Duration.ofSeconds(10), "6 procs"))
        .as("pids %s", exec.pids())
        .isTrue();
    List<Long> pids = exec.pids();
    exec.kill();
    assertThat(exec.pids()).isEmpty();
    assertThat(Leftovers.processesMatching(marker)).isEmpty();
    for (long pid : pids) {
      assertThat(CgroupHost.dead(pid)).as("pid %d is dead", pid).isTrue();
    }
    assertThat(tree.await().exitValue()).isEqualTo(137);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.kavach.backend.process.cgroup.CgroupHost#layouts")
  void killWinsAgainstAForkLoop(String name, CgroupLayout layout) {
    SandboxCgroup cg = sandbox(layout, new CgroupLimits(0, 0, 64));
    ExecCgroup exec = exec(cg);
    killDuringAForkStorm(cg, exec, exec::kill);
  }

  /** Starts a shell that makes orphans as fast as it can fork, then kills while it races. */
  private void killDuringAForkStorm(SandboxCgroup cg, ExecCgroup exec, Runnable kill) {
    String marker = marker();
    Exec.Running storm =
        CgroupHost.start(
            exec,
            "while :; do (sleep " + marker + " </dev/null >/dev/null 2>&1 &); done 2>/dev/null");
    assertThat(CgroupIo.await(() -> exec.pids().size() >= 10, Duration.ofSeconds(10), "storm"))
        .isTrue();
    kill.run();
    assertThat(exec.pids()).isEmpty();
    assertThat(cg.pids()).isEmpty();
    assertThat(Leftovers.processesMatching(marker)).isEmpty();
    assertThat(storm.await().exitValue()).isEqualTo(137);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.kavach.backend.process.cgroup.CgroupHost#layouts")
  void destroyWorksWhileFrozen(String name, CgroupLayout layout) {
    String marker = marker();
    SandboxCgroup cg = sandbox(layout, new CgroupLimits(64 * MIB, 0.5, 32));
    ExecCgroup exec = exec(cg);
    Exec.Running loop =
        CgroupHost.start(
            exec, "sleep " + marker + " </dev/null >/dev/null 2>&1 & while :; do sleep 0.01; done");
    CgroupHost.awaitJoined(exec, loop);
    assertThat(CgroupIo.await(() -> exec.pids().size() >= 2, Duration.ofSeconds(10), "2 procs"))
        .isTrue();
    cg.freeze();
    cg.destroy();
    for (Path d : concat(cg.directories(), exec.directories())) {
      assertThat(d).doesNotExist();
    }
    assertThat(loop.await().exitValue()).isEqualTo(137);
    assertThat(Leftovers.processesMatching(marker)).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.kavach.backend.process.cgroup.CgroupHost#layouts")
  void killingOneExecLeavesTheOtherRunning(String name, CgroupLayout layout) {
    SandboxCgroup cg = sandbox(layout, new CgroupLimits(0, 0, 64));
    ExecCgroup a = exec(cg);
    ExecCgroup b = exec(cg);
    Exec.Running ra = CgroupHost.start(a, "while :; do sleep 0.05; done");
    Exec.Running rb = CgroupHost.start(b, "while :; do sleep 0.05; done");
    CgroupHost.awaitJoined(a, ra);
    CgroupHost.awaitJoined(b, rb);
    a.kill();
    assertThat(ra.await().exitValue()).isEqualTo(137);
    assertThat(rb.process().isAlive()).isTrue();
    assertThat(b.pids()).contains(rb.process().pid());
    assertThat(cg.pids()).contains(rb.process().pid()).doesNotContain(ra.process().pid());
    a.destroy();
    assertThat(a.directories()).allMatch(d -> !Files.exists(d));
    cg.kill();
    assertThat(rb.await().exitValue()).isEqualTo(137);
  }

  @Test
  void theLauncherMayJoinWithItsPidInsteadOfZero() {
    SandboxCgroup cg = sandbox(CgroupHost.HOST.cgroups(), new CgroupLimits(64 * MIB, 0, 16));
    ExecCgroup exec = exec(cg);
    Exec.Running r =
        CgroupHost.start(List.of("/bin/sh"), exec, "$$", "while :; do sleep 0.05; done");
    CgroupHost.awaitJoined(exec, r);
    assertThat(exec.pids()).contains(r.process().pid());
    exec.kill();
  }

  @Test
  void failsClosedNamingTheLimitWhenAControllerIsMissing() {
    CgroupLayout real = CgroupHost.HOST.cgroups();
    Map<String, String> v1 = new java.util.HashMap<>(real.v1());
    v1.remove("memory");
    Set<String> v2 = new java.util.HashSet<>(real.v2Controllers());
    v2.remove("memory");
    CgroupLayout noMemory = new CgroupLayout(v1, real.v2Mount(), v2);
    String id = CgroupHost.newId();
    CgroupLimits limits = new CgroupLimits(64 * MIB, 0, 20);
    assertThatThrownBy(() -> SandboxCgroup.create(id, limits, false, noMemory, CgroupHost.own()))
        .isInstanceOf(KavachException.class)
        .hasMessageStartingWith("memory_limit_mb: no memory controller on this host")
        .satisfies(
            e -> assertThat(((KavachException) e).reason()).isEqualTo(Reason.ENFORCEMENT_FAILED));
    // Nothing was left: not the pids group that could have been made.
    Path pids = SandboxCgroup.ownDir(Path.of(real.v1().get("pids")), CgroupHost.own().get("pids"));
    assertThat(pids.resolve("kavach").resolve(id)).doesNotExist();

    // Best effort runs with what the host can apply, and says what it skipped.
    SandboxCgroup cg = SandboxCgroup.create(id, limits, true, noMemory, CgroupHost.own());
    created.add(cg);
    assertThat(cg.inForce()).isEqualTo(new CgroupLimits(0, 0, 20));
    assertThat(cg.notes())
        .anyMatch(n -> n.startsWith("memory_limit_mb: not applied (no memory controller"));
    Enforcement e = cg.reportTo(Enforcement.builder("process")).build();
    assertThat(e.memoryLimitBytes()).isZero();
    assertThat(e.pidsLimit()).isEqualTo(20);
    assertThat(e.notes()).isEqualTo(cg.notes());
  }

  @Test
  void aV2ControllerTheJvmsCgroupDoesNotOfferFailsClosed() {
    CgroupLayout real = CgroupHost.HOST.cgroups();
    org.junit.jupiter.api.Assumptions.assumeTrue(
        real.v2Mount() != null && !real.v2Controllers().contains("pids"),
        "needs a v2 mount without the pids controller (a hybrid host)");
    // A layout that claims v2 has pids: the real v2 code path must find it is not offered.
    Map<String, String> v1 = new java.util.HashMap<>(real.v1());
    v1.remove("pids");
    Set<String> v2 = new java.util.HashSet<>(real.v2Controllers());
    v2.add("pids");
    CgroupLayout claimed = new CgroupLayout(v1, real.v2Mount(), v2);
    String id = CgroupHost.newId();
    Path own = SandboxCgroup.ownDir(Path.of(real.v2Mount()), CgroupHost.own().get(""));
    assertThatThrownBy(
            () ->
                SandboxCgroup.create(
                    id, new CgroupLimits(0, 0, 20), false, claimed, CgroupHost.own()))
        .isInstanceOf(KavachException.class)
        .hasMessageStartingWith(
            "max_pids: the pids controller is not delegated to "
                + own
                + " (its cgroup.controllers: ");
    assertThat(own.resolve("kavach").resolve(Owner.current().dirName()).resolve(id)).doesNotExist();
  }

  @Test
  void refusesToAdoptAnExistingGroup() {
    SandboxCgroup first = sandbox(CgroupHost.HOST.cgroups(), new CgroupLimits(0, 0, 10));
    assertThatThrownBy(
            () ->
                SandboxCgroup.create(
                    first.sandboxId(),
                    new CgroupLimits(0, 0, 10),
                    false,
                    CgroupHost.HOST.cgroups(),
                    CgroupHost.own()))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("already exists");
    assertThat(first.directories()).allMatch(Files::isDirectory);
  }

  @Test
  void rejectsIdsThatAreNotPlainNames() {
    for (String bad : List.of("", "..", "a/b", "memory.limit_in_bytes", "-x", "x".repeat(65))) {
      assertThatThrownBy(
              () ->
                  SandboxCgroup.create(
                      bad, CgroupLimits.none(), false, CgroupHost.HOST.cgroups(), CgroupHost.own()))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("sandboxId");
    }
  }

  private SandboxCgroup sandbox(CgroupLayout layout, CgroupLimits limits) {
    SandboxCgroup cg =
        SandboxCgroup.create(CgroupHost.newId(), limits, false, layout, CgroupHost.own());
    created.add(cg);
    mustBeGone.addAll(cg.directories());
    return cg;
  }

  private ExecCgroup exec(SandboxCgroup cg) {
    ExecCgroup e = cg.newExec(CgroupHost.newId());
    mustBeGone.addAll(e.directories());
    return e;
  }

  private String marker() {
    // A sleep length no other process on the machine has: the marker in its command line.
    String m = "7777." + (100000 + ThreadLocalRandom.current().nextInt(900000));
    markers.add("sleep " + m);
    return m;
  }

  // busybox sh names the errno when a fork fails (dash says only "Cannot fork").
  private static String busybox() {
    java.util.Optional<Path> busybox = CgroupHost.HOST.which("busybox");
    if (busybox.isEmpty() && "true".equals(System.getenv("CI"))) {
      org.junit.jupiter.api.Assertions.fail("busybox is installed by .ci/run but missing");
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(busybox.isPresent(), "busybox not installed");
    return busybox.get().toString();
  }

  /** The sandbox's directory in the v1 hierarchy of {@code controller}, or the v2 one. */
  private static Path cgroupDir(SandboxCgroup cg, String controller) {
    String mount = CgroupHost.HOST.cgroups().v1().get(controller);
    return cg.directories().stream()
        .filter(d -> mount != null && d.startsWith(mount))
        .findFirst()
        .orElseGet(() -> cg.directories().get(0));
  }

  private static String read(Path dir, String file) {
    String text = CgroupIo.readOrNull(dir.resolve(file));
    assertThat(text).as(dir.resolve(file).toString()).isNotNull();
    return text;
  }

  private static long size(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return 0;
    }
  }

  @SafeVarargs
  private static List<Path> concat(List<Path>... lists) {
    List<Path> out = new ArrayList<>();
    for (List<Path> l : lists) {
      out.addAll(l);
    }
    return out;
  }
}
