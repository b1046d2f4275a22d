package dev.kavach.backend.wasm;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * How the WASM backend runs modules: the engine, an optional instruction budget, the size of the
 * prepared-module cache, and where bare command names are looked up. These are properties of the
 * backend (the host's choice), not of a policy.
 *
 * <pre>{@code
 * WasmOptions options = WasmOptions.builder()
 *     .instructionBudget(5_000_000_000L)          // forces the interpreter
 *     .commandPath(List.of(Path.of("/opt/wasm-tools")))
 *     .build();
 * Backends backends = Backends.of(List.of(new WasmBackendProvider(options)));
 * Sandbox sandbox = Sandbox.create(config, backends);
 * }</pre>
 */
public final class WasmOptions {

  /** Chicory's execution engines. */
  public enum Engine {
    /** Translates the module to JVM bytecode once, then runs at JIT speed (35-90x faster). */
    COMPILER,
    /** Interprets each instruction; starts faster and is the only engine that counts them. */
    INTERPRETER
  }

  private final Engine engine;
  private final OptionalLong instructionBudget;
  private final int cacheEntries;
  private final long cacheBytes;
  private final List<Path> commandPath;

  private WasmOptions(Builder b) {
    this.engine = b.engine;
    this.instructionBudget = b.instructionBudget;
    this.cacheEntries = b.cacheEntries;
    this.cacheBytes = b.cacheBytes;
    this.commandPath = List.copyOf(b.commandPath);
  }

  /** The defaults: compiler, no instruction budget, 64 modules or 256 MiB cached, no path. */
  public static WasmOptions defaults() {
    return builder().build();
  }

  /** A builder with the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The engine that runs modules. With an instruction budget this is always {@link
   * Engine#INTERPRETER}: only the interpreter can count instructions.
   */
  public Engine engine() {
    return instructionBudget.isPresent() ? Engine.INTERPRETER : engine;
  }

  /** Instructions one exec may execute before it is stopped, if limited. */
  public OptionalLong instructionBudget() {
    return instructionBudget;
  }

  /** Most prepared modules kept. */
  public int cacheEntries() {
    return cacheEntries;
  }

  /** Most module bytes kept prepared. */
  public long cacheBytes() {
    return cacheBytes;
  }

  /**
   * Host directories searched, in order, for a bare command name {@code NAME} as {@code NAME.wasm}.
   */
  public List<Path> commandPath() {
    return commandPath;
  }

  /** Builder for {@link WasmOptions}. */
  public static final class Builder {
    private Engine engine = Engine.COMPILER;
    private OptionalLong instructionBudget = OptionalLong.empty();
    private int cacheEntries = 64;
    private long cacheBytes = 256L * 1024 * 1024;
    private final List<Path> commandPath = new ArrayList<>();

    private Builder() {}

    /** Sets the engine. */
    public Builder engine(Engine engine) {
      this.engine = Objects.requireNonNull(engine, "engine");
      return this;
    }

    /**
     * Limits every exec to this many WebAssembly instructions (at least 1); forces the interpreter.
     */
    public Builder instructionBudget(long instructions) {
      if (instructions < 1) {
        throw invalid("instruction budget (" + instructions + ") must be at least 1");
      }
      this.instructionBudget = OptionalLong.of(instructions);
      return this;
    }

    /** Sets how many prepared modules are kept (at least 1). */
    public Builder cacheEntries(int entries) {
      if (entries < 1) {
        throw invalid("cache entries (" + entries + ") must be at least 1");
      }
      this.cacheEntries = entries;
      return this;
    }

    /** Sets how many module bytes are kept prepared (at least 1). */
    public Builder cacheBytes(long bytes) {
      if (bytes < 1) {
        throw invalid("cache bytes (" + bytes + ") must be at least 1");
      }
      this.cacheBytes = bytes;
      return this;
    }

    /** Sets the host directories searched for bare command names (absolute paths). */
    public Builder commandPath(List<Path> dirs) {
      commandPath.clear();
      for (Path d : dirs) {
        if (!d.isAbsolute()) {
          throw invalid("command path entry (" + d + ") must be absolute");
        }
        commandPath.add(d);
      }
      return this;
    }

    /** Builds the options. */
    public WasmOptions build() {
      return new WasmOptions(this);
    }

    private static KavachException invalid(String message) {
      return new KavachException(Reason.POLICY_INVALID, message);
    }
  }
}
