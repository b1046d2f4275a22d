package dev.kavach.backend.process.seccomp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kavach.internal.exec.Exec;
import dev.kavach.testing.Leftovers;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The OCI export enforced by a real runtime: runc (libseccomp 2.5) runs the probes with each
 * built-in profile as {@code linux.seccomp}, and every probe must give what the compiled filter
 * gives under bwrap ({@link SeccompEnforcementTest}). A run of the same container without the
 * profile shows the answers come from the filter.
 */
@Timeout(180)
class OciSeccompRuncTest {
  @TempDir Path dir;
  private final List<String> containers = new ArrayList<>();
  private @Nullable Path runc;
  private Path python = Path.of("/usr/bin/python3");

  @BeforeEach
  void tools() {
    runc = HostTools.onPath("runc").orElse(null);
    HostTools.require(runc != null, "runc is not installed");
    HostTools.require(Files.isExecutable(python), "no /usr/bin/python3");
    HostTools.require(
        "root".equals(System.getProperty("user.name")),
        "rootful runc needs root; this test runs as " + System.getProperty("user.name"));
  }

  @AfterEach
  void nothingLeftBehind() throws IOException {
    for (String id : containers) {
      Exec.run(
          Exec.command(List.of(runc.toString(), "delete", "--force", id))
              .timeout(Duration.ofSeconds(30))
              .build());
      assertThat(Leftovers.processesMatchingAfter(id, 5000)).as("processes of " + id).isEmpty();
      assertThat(Path.of("/run/runc", id)).as("runc state of " + id).doesNotExist();
      try (DirectoryStream<Path> hierarchies =
          Files.newDirectoryStream(Path.of("/sys/fs/cgroup"))) {
        for (Path h : hierarchies) {
          assertThat(h.resolve(id)).as("cgroup left by runc").doesNotExist();
        }
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"basic", "strict"})
  void runcEnforcesTheExportLikeTheCompiledFilter(String profile) throws IOException {
    Map<String, String> host = probes(null);
    Map<String, String> filtered =
        probes(OciSeccomp.toTree(SeccompProfile.builtIn(profile), Arch.host(), true));
    List<String> wrong = new ArrayList<>();
    filtered.forEach(
        (probe, got) -> {
          // Without a user namespace, runc's default capabilities make the kernel itself refuse
          // mount, chroot, ... with EPERM, so "host" expectations and the proof that the filter
          // answers rest on the probes that tell even without capabilities.
          String want = Probes.expected(profile, probe, host);
          if (!got.equals(want)) {
            wrong.add(
                probe
                    + ": expected "
                    + want
                    + ", got "
                    + got
                    + " (without profile: "
                    + host.get(probe)
                    + ")");
          }
          if (Probes.UNPRIVILEGED_TELLS.contains(probe) && host.get(probe).equals(want)) {
            wrong.add(probe + ": runc without the profile answers " + want + " too");
          }
        });
    assertThat(wrong).as("probes in runc under the exported " + profile).isEmpty();
  }

  /** Runs probe.py in a fresh runc container (read-only host /usr, /etc, ...; its own net ns). */
  private Map<String, String> probes(@Nullable ObjectNode seccomp) throws IOException {
    String id = "kavach-seccomp-" + UUID.randomUUID().toString().substring(0, 8);
    containers.add(id);
    Path bundle = Files.createDirectories(dir.resolve(id));
    Files.createDirectories(bundle.resolve("rootfs"));
    Path probeDir = Files.createDirectories(dir.resolve(id + "-probe"));
    Probes.install(probeDir);
    Exec.Result spec =
        Exec.run(
            Exec.command(List.of(runc.toString(), "spec", "--bundle", bundle.toString()))
                .timeout(Duration.ofSeconds(30))
                .build());
    assertThat(spec.exitValue()).as(spec.stderrText()).isZero();
    ObjectMapper mapper = new ObjectMapper();
    ObjectNode config = (ObjectNode) mapper.readTree(bundle.resolve("config.json").toFile());
    ObjectNode process = (ObjectNode) config.get("process");
    process.put("terminal", false);
    ArrayNode args = process.putArray("args");
    args.add(python.toString()).add("/probe/probe.py");
    Probes.arguments().forEach(args::add);
    process.putArray("env").add("PATH=/usr/bin:/bin");
    ((ObjectNode) config.get("root"))
        .put("path", bundle.resolve("rootfs").toString())
        .put("readonly", true);
    ArrayNode mounts = (ArrayNode) config.get("mounts");
    for (String d : List.of("/usr", "/bin", "/lib", "/lib64", "/etc")) {
      if (Files.exists(Path.of(d))) {
        bind(mounts, d, d);
      }
    }
    bind(mounts, probeDir.toString(), "/probe");
    mounts
        .addObject()
        .put("destination", "/tmp")
        .put("type", "tmpfs")
        .put("source", "tmpfs")
        .putArray("options")
        .add("nosuid")
        .add("nodev")
        .add("mode=1777");
    ObjectNode linux = (ObjectNode) config.get("linux");
    if (seccomp != null) {
      linux.set("seccomp", seccomp);
    }
    mapper.writeValue(bundle.resolve("config.json").toFile(), config);
    Exec.Result r =
        Exec.run(
            Exec.command(List.of(runc.toString(), "run", "--bundle", bundle.toString(), id))
                .timeout(Duration.ofSeconds(90))
                .build());
    assertThat(r.exitValue()).as("runc run: %s", r.stderrText()).isZero();
    Map<String, String> results = Probes.parse(r.stdoutText());
    assertThat(results).hasSize(Probes.arguments().size() - 1);
    return results;
  }

  private static void bind(ArrayNode mounts, String source, String destination) {
    mounts
        .addObject()
        .put("destination", destination)
        .put("type", "bind")
        .put("source", source)
        .putArray("options")
        .add("rbind")
        .add("ro");
  }
}
