package dev.kavach.backend.wasm;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds test modules from WebAssembly text with {@code wat2wasm} (Debian package {@code wabt},
 * installed by {@code .ci/run}). Without it the tests skip, except under {@code CI=true}, where
 * they fail.
 */
final class Wat {
  private Wat() {}

  /** Compiles {@code src/test/resources/wat/NAME.wat} to {@code dir/NAME.wasm}. */
  static Path compileResource(String name, Path dir) throws IOException, InterruptedException {
    try (InputStream in = Wat.class.getResourceAsStream("/wat/" + name + ".wat")) {
      if (in == null) {
        throw new IllegalArgumentException("no test resource wat/" + name + ".wat");
      }
      return compile(
          new String(in.readAllBytes(), StandardCharsets.UTF_8), dir.resolve(name + ".wasm"));
    }
  }

  /** Compiles WebAssembly text to {@code out}. */
  static Path compile(String wat, Path out) throws IOException, InterruptedException {
    Path src = out.resolveSibling(out.getFileName() + ".wat");
    Files.writeString(src, wat);
    Process p;
    try {
      p =
          new ProcessBuilder(List.of("wat2wasm", src.toString(), "-o", out.toString()))
              .redirectErrorStream(true)
              .start();
    } catch (IOException e) {
      if ("true".equals(System.getenv("CI"))) {
        fail("wat2wasm (package wabt) must be installed in CI: " + e.getMessage());
      }
      assumeTrue(false, "wat2wasm (package wabt) is not installed: " + e.getMessage());
      throw e;
    }
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("wat2wasm failed on " + src + ": " + output);
    }
    return out;
  }
}
