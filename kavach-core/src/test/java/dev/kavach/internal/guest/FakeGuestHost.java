package dev.kavach.internal.guest;

import dev.kavach.internal.host.Virtualization;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A host made of fixtures, for probe tests: hardware present, absent or half there. */
public final class FakeGuestHost implements GuestHost {
  private Virtualization virtualization = new Virtualization(false, List.of(), List.of());
  private final Map<String, Path> tools = new HashMap<>();
  private final Map<Path, String> files = new HashMap<>();
  private final Map<String, String> commands = new HashMap<>();
  private final Map<String, String> settings = new HashMap<>();

  /** A host with VT-x and kvm_intel. */
  public static FakeGuestHost intelKvm() {
    return new FakeGuestHost()
        .withVirtualization(new Virtualization(true, List.of("vmx"), List.of("kvm_intel")));
  }

  /** A host with AMD-V and kvm_amd. */
  public static FakeGuestHost amdKvm() {
    return new FakeGuestHost()
        .withVirtualization(new Virtualization(true, List.of("svm"), List.of("kvm_amd")));
  }

  /** This project's machine kind: a PVM /dev/kvm and no vmx/svm. */
  public static FakeGuestHost pvm() {
    return new FakeGuestHost()
        .withVirtualization(new Virtualization(true, List.of(), List.of("kvm_pvm")));
  }

  /** Sets the virtualization facts. */
  public FakeGuestHost withVirtualization(Virtualization v) {
    virtualization = v;
    return this;
  }

  /** Puts an executable on the fake PATH at /usr/bin/NAME. */
  public FakeGuestHost withTool(String name, Path path) {
    tools.put(name, path);
    tools.put(path.toString(), path);
    return this;
  }

  /** Puts an executable on the fake PATH at /usr/bin/NAME. */
  public FakeGuestHost withTool(String name) {
    return withTool(name, Path.of("/usr/bin", name));
  }

  /** Creates a file with this content. */
  public FakeGuestHost withFile(String path, String content) {
    files.put(Path.of(path), content);
    return this;
  }

  /** Makes a command print this. */
  public FakeGuestHost withCommand(String argvJoined, String output) {
    commands.put(argvJoined, output);
    return this;
  }

  /** Sets a configuration value. */
  public FakeGuestHost withSetting(String key, String value) {
    settings.put(key, value);
    return this;
  }

  @Override
  public Virtualization virtualization() {
    return virtualization;
  }

  @Override
  public Optional<Path> tool(String nameOrPath) {
    return Optional.ofNullable(tools.get(nameOrPath));
  }

  @Override
  public boolean exists(Path path) {
    return files.containsKey(path) || tools.containsValue(path);
  }

  @Override
  public String read(Path path) {
    return files.getOrDefault(path, "");
  }

  @Override
  public String run(List<String> argv) {
    return commands.getOrDefault(String.join(" ", argv), "");
  }

  @Override
  public Optional<String> setting(String key) {
    return Optional.ofNullable(settings.get(key));
  }
}
