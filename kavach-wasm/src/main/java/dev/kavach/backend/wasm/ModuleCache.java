package dev.kavach.backend.wasm;

import com.dylibso.chicory.compiler.InterpreterFallback;
import com.dylibso.chicory.compiler.MachineFactoryCompiler;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.InterpreterMachine;
import com.dylibso.chicory.runtime.Machine;
import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.WasmModule;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Parsed and compiled modules by the SHA-256 of their bytes, least recently used first out.
 *
 * <p>Keyed by content, never by path: a file replaced between two execs is a different module.
 * Bounded by entries and by the bytes of the modules held, since each entry also holds the classes
 * the compiler generated for it.
 */
final class ModuleCache {

  /**
   * A module ready to instantiate.
   *
   * @param digest {@code sha256:} and the hex digest of the module's bytes
   * @param module the parsed module
   * @param machine makes the engine for each instance
   * @param engine which engine runs it, in words for the enforcement notes
   * @param size bytes of the module
   */
  record Prepared(
      String digest,
      WasmModule module,
      Function<Instance, Machine> machine,
      String engine,
      long size) {}

  private final int maxEntries;
  private final long maxBytes;
  private final Map<String, Prepared> entries = new LinkedHashMap<>(16, 0.75f, true);
  private long bytes;
  private long hits;
  private long misses;

  ModuleCache(int maxEntries, long maxBytes) {
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes;
  }

  /**
   * The prepared module for these bytes, parsing and compiling it on a miss.
   *
   * @param compile whether to use Chicory's compiler (with the interpreter as fallback)
   * @throws com.dylibso.chicory.wasm.ChicoryException if the bytes are not a valid module
   */
  Prepared get(byte[] wasm, boolean compile) {
    String key = (compile ? "c:" : "i:") + digest(wasm);
    synchronized (this) {
      Prepared p = entries.get(key);
      if (p != null) {
        hits++;
        return p;
      }
      misses++;
    }
    // Prepared outside the lock: compiling a large module takes seconds and must not block execs
    // of other modules. Two threads may prepare the same module at once; one result is kept.
    Prepared p = prepare(key.substring(2), wasm, compile);
    synchronized (this) {
      Prepared raced = entries.putIfAbsent(key, p);
      if (raced != null) {
        return raced;
      }
      bytes += p.size();
      evict();
      return p;
    }
  }

  /** Cache hits and misses so far, for tests and benchmarks. */
  synchronized long[] stats() {
    return new long[] {hits, misses};
  }

  private void evict() {
    Iterator<Prepared> it = entries.values().iterator();
    while ((entries.size() > maxEntries || bytes > maxBytes) && entries.size() > 1) {
      bytes -= it.next().size();
      it.remove();
    }
  }

  private static Prepared prepare(String digest, byte[] wasm, boolean compile) {
    WasmModule module = Parser.parse(wasm);
    if (!compile) {
      return new Prepared(digest, module, InterpreterMachine::new, "interpreter", wasm.length);
    }
    try {
      Function<Instance, Machine> machine =
          MachineFactoryCompiler.builder(module)
              .withInterpreterFallback(InterpreterFallback.SILENT)
              .compile();
      return new Prepared(digest, module, machine, "compiler", wasm.length);
    } catch (RuntimeException | LinkageError e) {
      // The compiler refuses some valid modules (for example a function too large for one JVM
      // method); the interpreter runs every valid module, only slower.
      return new Prepared(
          digest,
          module,
          InterpreterMachine::new,
          "interpreter (compilation failed: " + e.getClass().getSimpleName() + ")",
          wasm.length);
    }
  }

  static String digest(byte[] wasm) {
    try {
      return "sha256:"
          + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(wasm));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
