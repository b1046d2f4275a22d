package dev.kavach.internal.container;

import dev.kavach.internal.host.HostProbe;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

/** Container processes as the host sees them (runc, crun and podman run them as host processes). */
public final class HostProcesses {
  /** Namespace file names in /proc/PID/ns and the names the enforcement report uses. */
  private static final Map<String, String> NAMESPACES =
      Map.of(
          "cgroup", "cgroup",
          "ipc", "ipc",
          "mnt", "mount",
          "net", "net",
          "pid", "pid",
          "user", "user",
          "uts", "uts");

  private HostProcesses() {}

  /** The namespaces process {@code pid} does not share with this JVM, by the report's names. */
  public static Set<String> privateNamespaces(long pid) {
    Set<String> out = new TreeSet<>();
    for (Map.Entry<String, String> e : NAMESPACES.entrySet()) {
      Optional<Path> theirs = link(Path.of("/proc", Long.toString(pid), "ns", e.getKey()));
      Optional<Path> ours = link(Path.of("/proc/self/ns", e.getKey()));
      if (theirs.isPresent() && ours.isPresent() && !theirs.equals(ours)) {
        out.add(e.getValue());
      }
    }
    return out;
  }

  /**
   * The host pid of the process that is {@code insidePid} in the pid namespace of host process
   * {@code memberPid}.
   */
  public static OptionalLong hostPid(long memberPid, int insidePid) {
    Optional<Path> ns = link(Path.of("/proc", Long.toString(memberPid), "ns", "pid"));
    if (ns.isEmpty()) {
      return OptionalLong.empty();
    }
    try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path p : procs) {
        if (!link(p.resolve("ns/pid")).equals(ns)) {
          continue;
        }
        List<Long> ids = parseNsPid(HostProbe.read(p.resolve("status").toString()));
        if (!ids.isEmpty() && ids.get(ids.size() - 1) == insidePid) {
          return OptionalLong.of(ids.get(0));
        }
      }
    } catch (IOException e) {
      return OptionalLong.empty();
    }
    return OptionalLong.empty();
  }

  /** Sends SIGTERM to a host process, if it is still alive. */
  public static void terminate(long hostPid) {
    ProcessHandle.of(hostPid).ifPresent(ProcessHandle::destroy);
  }

  /** The {@code NSpid} line of /proc/PID/status: the pid in each namespace, outermost first. */
  public static List<Long> parseNsPid(String status) {
    List<Long> ids = new ArrayList<>();
    for (String line : status.split("\n")) {
      if (line.startsWith("NSpid:")) {
        for (String f : line.substring(6).trim().split("\\s+")) {
          try {
            ids.add(Long.parseLong(f));
          } catch (NumberFormatException e) {
            return List.of();
          }
        }
      }
    }
    return ids;
  }

  private static Optional<Path> link(Path p) {
    try {
      return Optional.of(Files.readSymbolicLink(p));
    } catch (IOException | UnsupportedOperationException e) {
      return Optional.empty();
    }
  }
}
