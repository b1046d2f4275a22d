package dev.kavach.internal.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kavach.internal.exec.Exec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Checks, after each test (and after the contract destroyed its sandboxes), that nothing of the
 * test's containers is left: no container in the runtime's lists (kavach's private state root and
 * the runtime's default one), no cgroup directory, no run directory. Scoped to the sandbox ids the
 * test created, never global: other tests run on the same host at the same time.
 *
 * <p>Register it with {@code @RegisterExtension} and call {@link #track} from {@code
 * hostResources}: JUnit calls extensions' {@code afterEach} after every {@code @AfterEach} method.
 */
public final class ContainerLeftovers implements AfterEachCallback {
  private final List<List<String>> listCommands;
  private final List<String> ids = Collections.synchronizedList(new ArrayList<>());

  /** Checks the output of each command (for example {@code runc --root R list}). */
  public ContainerLeftovers(List<List<String>> listCommands) {
    this.listCommands = List.copyOf(listCommands);
  }

  /** {@code runtime --root <kavach root> list} and {@code runtime list} (default root). */
  public static ContainerLeftovers forOciRuntime(OciRuntimeDriver.Kind kind) {
    String rt = kind.command();
    return new ContainerLeftovers(
        List.of(
            List.of(rt, "--root", OciRuntimeDriver.stateRoot(kind).toString(), "list"),
            List.of(rt, "list")));
  }

  /** Remembers a sandbox; returns its host paths that must be gone after destroy. */
  public List<Path> track(String sandboxId) {
    ids.add(sandboxId);
    return hostPaths(sandboxId);
  }

  /** The run directory and every cgroup directory a sandbox's container may have. */
  public static List<Path> hostPaths(String sandboxId) {
    List<Path> paths = new ArrayList<>();
    paths.add(ContainerLayout.BASE.resolve("kavach-" + sandboxId));
    paths.addAll(CgroupDirs.of(sandboxId));
    return paths;
  }

  @Override
  public void afterEach(ExtensionContext context) {
    List<String> mine;
    synchronized (ids) {
      mine = new ArrayList<>(ids);
      ids.clear();
    }
    if (mine.isEmpty()) {
      return;
    }
    for (List<String> cmd : listCommands) {
      Exec.Result r =
          Exec.run(
              Exec.command(cmd)
                  .env(RuntimeCommands.environment())
                  .timeout(Duration.ofSeconds(60))
                  .build());
      for (String id : mine) {
        assertThat(r.stdoutText())
            .as("%s lists a container of sandbox %s", String.join(" ", cmd), id)
            .doesNotContain("kavach-" + id);
      }
    }
    for (String id : mine) {
      for (Path p : hostPaths(id)) {
        assertThat(p).as("left behind by sandbox " + id).doesNotExist();
      }
    }
  }
}
