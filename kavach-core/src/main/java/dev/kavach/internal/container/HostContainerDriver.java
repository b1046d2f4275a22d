package dev.kavach.internal.container;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What the drivers of runtimes whose containers run as host processes share: the container's first
 * process as the host sees it (for its namespaces and to find an exec's agent), the runtime's notes
 * for the report, and the end of {@link #delete()}.
 */
public abstract class HostContainerDriver implements ContainerDriver {
  private final ContainerPlan plan;
  private final List<String> notes;
  private volatile long firstPid = -1;

  /**
   * @param plan the container
   * @param notes facts about the runtime for the report
   */
  protected HostContainerDriver(ContainerPlan plan, List<String> notes) {
    this.plan = plan;
    this.notes = List.copyOf(notes);
  }

  /** Records the host pid of the container's first process, once the runtime reports it. */
  protected final void started(long pid) {
    firstPid = pid;
  }

  /** Sends SIGTERM to the process that is {@code insidePid} in the container's PID namespace. */
  protected final void terminateHostProcess(int insidePid) {
    long first = firstPid;
    if (first > 0) {
      HostProcesses.hostPid(first, insidePid).ifPresent(HostProcesses::terminate);
    }
  }

  /**
   * Ends a delete: removes the sandbox's cgroup directories (a runtime may leave them when its
   * container dies on its own) and reports every problem at once.
   *
   * @throws KavachException with {@link Reason#IO} if the runtime or the cleanup failed
   */
  protected final void finishDelete(List<String> runtimeProblems) {
    List<String> problems = new ArrayList<>(runtimeProblems);
    problems.addAll(CgroupDirs.remove(plan.sandboxId()));
    if (!problems.isEmpty()) {
      throw new KavachException(Reason.IO, String.join("; ", problems));
    }
  }

  @Override
  public final Set<String> namespaces() {
    long first = firstPid;
    return first > 0 ? HostProcesses.privateNamespaces(first) : Set.of();
  }

  @Override
  public final List<String> notes() {
    return notes;
  }
}
