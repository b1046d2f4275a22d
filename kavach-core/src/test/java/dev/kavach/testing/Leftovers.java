package dev.kavach.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Finds processes and paths a test left behind. Scoped by unique markers, never global. */
public final class Leftovers {
  private Leftovers() {}

  /** Processes whose command line contains {@code marker}, as "pid: cmdline". */
  public static List<String> processesMatching(String marker) {
    List<String> found = new ArrayList<>();
    long self = ProcessHandle.current().pid();
    try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path p : procs) {
        if (p.getFileName().toString().equals(Long.toString(self))) {
          continue;
        }
        String cmdline = read(p.resolve("cmdline")).replace('\0', ' ').trim();
        if (cmdline.contains(marker)) {
          found.add(p.getFileName() + ": " + cmdline);
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot list /proc", e);
    }
    return found;
  }

  /** Waits up to {@code millis} for processes matching {@code marker} to disappear. */
  public static List<String> processesMatchingAfter(String marker, long millis) {
    long deadline = System.currentTimeMillis() + millis;
    List<String> found = processesMatching(marker);
    while (!found.isEmpty() && System.currentTimeMillis() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      found = processesMatching(marker);
    }
    return found;
  }

  private static String read(Path p) {
    try (InputStream in = Files.newInputStream(p)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return ""; // The process exited while we looked.
    }
  }
}
