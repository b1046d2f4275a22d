package dev.kavach.testing;

import dev.kavach.SandboxConfig;
import dev.kavach.backend.Availability;
import dev.kavach.backend.Backend;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Capability;
import dev.kavach.backend.Enforcement;
import dev.kavach.backend.ExecOutcome;
import dev.kavach.backend.ExecSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A hand fake: records every call, answers execs with a programmable function, and claims whatever
 * capabilities and availability a test gives it.
 */
public final class FakeBackendProvider implements BackendProvider {
  private List<String> aliases = List.of();
  private final String name;
  private final int baseScore;
  private final Set<Capability> capabilities;
  private Availability availability = Availability.available("fake");
  private Function<ExecSpec, ExecOutcome> answer = FakeBackendProvider::ok;
  private RuntimeException startFailure;

  /** Every backend this provider opened. */
  public final List<FakeBackend> opened = new CopyOnWriteArrayList<>();

  /** A fake with a name, base score and capabilities. */
  public FakeBackendProvider(String name, int baseScore, Set<Capability> capabilities) {
    this.name = name;
    this.baseScore = baseScore;
    this.capabilities =
        capabilities.isEmpty() ? EnumSet.noneOf(Capability.class) : EnumSet.copyOf(capabilities);
  }

  /** A fake that claims every capability. */
  public static FakeBackendProvider full(String name, int baseScore) {
    return new FakeBackendProvider(name, baseScore, EnumSet.allOf(Capability.class));
  }

  /** Sets the aliases. */
  public FakeBackendProvider aliases(String... names) {
    aliases = List.of(names);
    return this;
  }

  @Override
  public List<String> aliases() {
    return aliases;
  }

  /** Makes the probe report unavailable. */
  public FakeBackendProvider unavailable(String reason) {
    availability = Availability.unavailable(reason);
    return this;
  }

  /** Sets how execs are answered. */
  public FakeBackendProvider answer(Function<ExecSpec, ExecOutcome> f) {
    answer = f;
    return this;
  }

  /** Makes start() throw. */
  public FakeBackendProvider failStart(RuntimeException e) {
    startFailure = e;
    return this;
  }

  /** The default answer: exit 0, echoing argv to stdout. */
  public static ExecOutcome ok(ExecSpec spec) {
    return outcome(0, String.join(" ", spec.argv()));
  }

  /** An outcome with an exit code and stdout. */
  public static ExecOutcome outcome(int exit, String stdout) {
    return new ExecOutcome(
        exit,
        OptionalInt.empty(),
        false,
        false,
        stdout.getBytes(java.nio.charset.StandardCharsets.UTF_8),
        new byte[0],
        false,
        false,
        Duration.ofMillis(1),
        Enforcement.builder("fake").seccompProfile("basic").networkIsolated(true).build(),
        null);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String description() {
    return "test fake";
  }

  @Override
  public int baseScore() {
    return baseScore;
  }

  @Override
  public Availability probe() {
    return availability;
  }

  @Override
  public Set<Capability> capabilities() {
    return capabilities;
  }

  @Override
  public Backend open(String sandboxId, SandboxConfig config) {
    FakeBackend b = new FakeBackend();
    opened.add(b);
    return b;
  }

  /** The fake backend; its fields say what was called. */
  public final class FakeBackend implements Backend {
    /** Calls in order: start, exec, pause, resume, stop, destroy. */
    public final List<String> calls = new CopyOnWriteArrayList<>();

    /** Specs of every exec. */
    public final List<ExecSpec> specs = new CopyOnWriteArrayList<>();

    /** The workspace passed to start. */
    public volatile Path workspace;

    @Override
    public void start(Path workspace) {
      calls.add("start");
      this.workspace = workspace;
      if (startFailure != null) {
        throw startFailure;
      }
    }

    @Override
    public ExecOutcome exec(ExecSpec spec) {
      calls.add("exec");
      specs.add(spec);
      return answer.apply(spec);
    }

    @Override
    public void pause() {
      calls.add("pause");
    }

    @Override
    public void resume() {
      calls.add("resume");
    }

    @Override
    public void stop() {
      calls.add("stop");
    }

    @Override
    public void destroy() {
      calls.add("destroy");
    }

    /** The calls without repeated execs, for readable assertions. */
    public List<String> distinctCalls() {
      List<String> out = new ArrayList<>();
      for (String c : calls) {
        if (out.isEmpty() || !out.get(out.size() - 1).equals(c)) {
          out.add(c);
        }
      }
      return out;
    }
  }
}
