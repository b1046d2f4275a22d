package dev.kavach.backend.process.cgroup;

import dev.kavach.internal.host.HostProbe;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Run by {@link ReaperTest} in a JVM that the test then kills with SIGKILL: creates a sandbox group
 * and an exec group, starts {@code sleep <marker>} inside it (joined the way the launcher joins,
 * but without the launcher's parent-death signal, so it outlives this JVM), prints the directories
 * and waits to be killed.
 */
public final class OrphanMain {
  private OrphanMain() {}

  /** Arguments: sandbox id, sleep length (the marker). */
  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    SandboxCgroup cg =
        SandboxCgroup.create(args[0], new CgroupLimits(0, 0, 16), false, HostProbe.system());
    ExecCgroup exec = cg.newExec(args[0] + "-1");
    StringBuilder join = new StringBuilder();
    for (Path f : exec.procsFiles()) {
      join.append("echo 0 > ").append(f).append(" || exit 125; ");
    }
    new ProcessBuilder("/bin/sh", "-c", join + "exec sleep " + args[1])
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
    while (exec.pids().isEmpty()) {
      Thread.sleep(5);
    }
    List<Path> dirs = new ArrayList<>(exec.directories());
    dirs.addAll(cg.directories());
    out.println("READY " + String.join(" ", dirs.stream().map(Path::toString).toList()));
    Thread.sleep(Long.MAX_VALUE);
  }
}
