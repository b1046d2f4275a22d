package dev.kavach.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.policy.SandboxPolicy;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Per-exec cost of the container backends (needs root and the runtimes), each next to the raw
 * runtime on the same container and bundle, from the same run:
 *
 * <ul>
 *   <li>{@code kavach}: {@code Sandbox.exec(["true"])}: env file, process spec, the runtime's exec
 *       of {@code kavach-agent-oci exec -- true}, status file, result;
 *   <li>{@code runtimeExec}: the runtime's {@code exec --process} of {@code /bin/true} in the same
 *       running container with the same user, capabilities and no_new_privs (the baseline of the
 *       10% overhead target);
 *   <li>{@code runtimeRun}: the runtime's {@code run} of {@code /bin/true} in a fresh container
 *       from the same bundle (what a container per exec would cost, for reference).
 * </ul>
 *
 * crun runs behind the same mount-namespace wrapper in all three (it refuses this machine kind's
 * hybrid cgroup layout without it).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 5)
@Fork(1)
public class ContainerExecBenchmark {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Param({"oci-runc", "oci-crun", "gvisor"})
  public String backend;

  private Sandbox sandbox;
  private Path scratch;
  private List<String> runtime;
  private List<String> execTrue;
  private List<String> runTrue;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    sandbox =
        Sandbox.create(
            SandboxConfig.builder().backend(backend).policy(SandboxPolicy.minimal()).build());
    sandbox.start();
    String id = "kavach-" + sandbox.id();
    Path bundle = Path.of("/dev/shm", id, "bundle");
    scratch = Files.createTempDirectory(Path.of("/dev/shm"), "kavach-bench-");
    runtime = runtimeCommand();

    ObjectNode config = (ObjectNode) JSON.readTree(bundle.resolve("config.json").toFile());
    ObjectNode process = (ObjectNode) config.get("process").deepCopy();
    process.putArray("args").add("/bin/true");
    process.putArray("env").add("PATH=/usr/bin:/bin");
    Path processJson = scratch.resolve("process.json");
    JSON.writeValue(processJson.toFile(), process);
    execTrue = new ArrayList<>(runtime);
    execTrue.addAll(List.of("exec", "--process", processJson.toString(), id));

    // A second bundle: same root and mounts, /bin/true as the first process, its own cgroup.
    Path raw = Files.createDirectories(scratch.resolve("bundle"));
    config.set("process", process);
    ((ObjectNode) config.get("linux")).put("cgroupsPath", "/kavach/" + sandbox.id() + "-raw");
    JSON.writeValue(raw.resolve("config.json").toFile(), config);
    runTrue = new ArrayList<>(runtime);
    runTrue.addAll(List.of("run", "--bundle", raw.toString(), id + "-raw"));
  }

  private List<String> runtimeCommand() {
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
      default -> throw new IllegalArgumentException(backend);
    };
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    sandbox.close();
    try (var files = Files.walk(scratch)) {
      files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
    }
  }

  /** Through kavach: {@code Sandbox.exec(["true"])}. */
  @Benchmark
  public int kavach() {
    return sandbox.exec(List.of("true")).exitCode();
  }

  /** Baseline: the runtime's own exec of /bin/true in the same container. */
  @Benchmark
  public int runtimeExec() throws IOException, InterruptedException {
    return spawn(execTrue);
  }

  /** Reference: the runtime's run of /bin/true in a fresh container from the same bundle. */
  @Benchmark
  public int runtimeRun() throws IOException, InterruptedException {
    return spawn(runTrue);
  }

  private static int spawn(List<String> argv) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(argv)
            .redirectInput(new File("/dev/null"))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    int rc = p.waitFor();
    if (rc != 0) {
      throw new IllegalStateException(argv + " exited " + rc);
    }
    return rc;
  }
}
