package dev.kavach.backend.wasm;

import static org.junit.jupiter.api.Assumptions.abort;

import dev.kavach.backend.BackendProvider;
import dev.kavach.testing.BackendContract;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backend contract on wasm. A module cannot run {@code /bin/sh}, so the contract's shell
 * scripts are translated, one by one, into the same steps for the test tool ({@code kvtool.wat}, a
 * multi-call program installed on the command path as {@code kvsh}, {@code true}, {@code pwd},
 * {@code env}, {@code cat} and {@code sleep}). Scripts about signals do not apply: WASI preview 1
 * has none. A script without a translation fails the test, so a new contract test is never silently
 * weakened.
 */
class WasmContractTest extends BackendContract {
  @TempDir static Path bin;
  private static WasmBackendProvider provider;

  private static final Pattern ECHO_BOTH = Pattern.compile("echo (\\d+); echo \\1 >&2");
  private static final Pattern SLEEP = Pattern.compile("sleep ([0-9.]+)");
  private static final Pattern TIMEOUT_TREE =
      Pattern.compile("echo before; trap '' TERM; \\(trap '' TERM; sleep ([0-9.]+)\\) & sleep \\1");

  @BeforeAll
  static void installTools() throws Exception {
    Path tool = Wat.compileResource("kvtool", bin);
    for (String name : List.of("kvsh", "true", "pwd", "env", "cat", "sleep")) {
      Files.copy(tool, bin.resolve(name + ".wasm"));
    }
    provider = new WasmBackendProvider(WasmOptions.builder().commandPath(List.of(bin)).build());
  }

  @Override
  protected BackendProvider provider() {
    return provider;
  }

  @Override
  protected boolean commandsAreHostProcesses() {
    return false;
  }

  @Override
  protected List<String> sh(String script) {
    List<String> fixed =
        switch (script) {
          case "exit 3" -> List.of("kvsh", "exit", "3");
          case "kill -KILL $$", "kill -TERM $$" ->
              abort("WASI preview 1 has no signals; a killed module is reported as signal 9");
          case "printf out; printf err >&2" -> List.of("kvsh", "out", "out", "err", "err");
          case "printf '\\377\\000\\001\\n'" -> List.of("kvsh", "out", "\\377\\000\\001\\n");
          case "printf 'caf\\303\\251 \\377'" -> List.of("kvsh", "out", "caf\\303\\251 \\377");
          case "cat; echo end" -> List.of("kvsh", "cat", "out", "end\\n");
          case "cat; echo" -> List.of("kvsh", "cat", "out", "\\n");
          case "echo kept > note.txt" -> List.of("kvsh", "write", "note.txt", "kept\\n");
          case "cat input.txt; echo out > output.txt" ->
              List.of("kvsh", "read", "input.txt", "write", "output.txt", "out\\n");
          case "head -c 10000000 /dev/zero; head -c 100 /dev/zero >&2" ->
              List.of("kvsh", "zeros", "10000000", "zeros2", "100");
          default -> null;
        };
    if (fixed != null) {
      return fixed;
    }
    Matcher m = ECHO_BOTH.matcher(script);
    if (m.matches()) {
      return List.of("kvsh", "out", m.group(1) + "\\n", "err", m.group(1) + "\\n");
    }
    if (script.startsWith("printf %s ") && !script.contains("'") && !script.contains("$")) {
      return List.of("kvsh", "out", script.substring("printf %s ".length()));
    }
    m = SLEEP.matcher(script);
    if (m.matches()) {
      return List.of("kvsh", "sleep", m.group(1));
    }
    m = TIMEOUT_TREE.matcher(script);
    if (m.matches()) {
      // One module instead of a process tree: the timeout must still stop it and keep its output.
      return List.of("kvsh", "out", "before\\n", "sleep", m.group(1));
    }
    throw new IllegalArgumentException("no wasm translation of the contract's script: " + script);
  }
}
