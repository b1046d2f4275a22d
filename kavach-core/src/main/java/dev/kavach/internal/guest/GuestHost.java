package dev.kavach.internal.guest;

import dev.kavach.internal.exec.Exec;
import dev.kavach.internal.host.HostProbe;
import dev.kavach.internal.host.Virtualization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The host facts the VM and enclave backends probe, behind an interface so that each probe is a
 * pure function tested on fixtures (hardware present, absent, half there).
 */
public interface GuestHost {

  /** Hardware virtualization facts ({@link HostProbe#virtualization()}). */
  Virtualization virtualization();

  /** An executable on the search path, or at this absolute path. */
  Optional<Path> tool(String nameOrPath);

  /** Whether a file or device node exists. */
  boolean exists(Path path);

  /** A small text file's content, empty if missing or unreadable. */
  String read(Path path);

  /** The standard output and error of a short command, empty if it cannot run. */
  String run(List<String> argv);

  /** A configuration value (a system property {@code key}, else the environment variable). */
  Optional<String> setting(String key);

  /** This host. */
  static GuestHost system() {
    HostProbe probe = HostProbe.system();
    return new GuestHost() {
      @Override
      public Virtualization virtualization() {
        return probe.virtualization();
      }

      @Override
      public Optional<Path> tool(String nameOrPath) {
        return probe.which(nameOrPath);
      }

      @Override
      public boolean exists(Path path) {
        return Files.exists(path);
      }

      @Override
      public String read(Path path) {
        return HostProbe.read(path.toString());
      }

      @Override
      public String run(List<String> argv) {
        try {
          Exec.Result r =
              Exec.run(
                  Exec.command(argv)
                      .timeout(Duration.ofSeconds(10))
                      .outputLimit(256 * 1024)
                      .build());
          return r.stdoutText() + r.stderrText();
        } catch (RuntimeException e) {
          return "";
        }
      }

      @Override
      public Optional<String> setting(String key) {
        String v = System.getProperty(key);
        if (v == null) {
          // kavach.microvm.kernel -> KAVACH_MICROVM_KERNEL
          v =
              System.getenv(
                  key.toUpperCase(java.util.Locale.ROOT).replace('.', '_').replace('-', '_'));
        }
        return Optional.ofNullable(v).filter(s -> !s.isBlank());
      }
    };
  }
}
