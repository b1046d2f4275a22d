package dev.kavach.backend.process.seccomp;

import java.util.List;
import java.util.Objects;

/**
 * What a profile does with some system calls: the first {@link ArgCase} that holds decides, and
 * {@code action} decides when none does.
 *
 * @param names system call names (a name missing on one architecture is skipped there)
 * @param action the action when no case holds
 * @param cases argument checks, in order
 * @param why the reason for the rule, from the profile file
 */
public record SyscallRule(
    List<String> names, SeccompAction action, List<ArgCase> cases, String why) {

  /** Copies and validates. */
  public SyscallRule {
    names = List.copyOf(names);
    cases = List.copyOf(cases);
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(why, "why");
    if (names.isEmpty()) {
      throw new IllegalArgumentException("a rule names at least one system call");
    }
  }

  /** The cases that apply to a filter for this network setting. */
  public List<ArgCase> casesFor(boolean networkIsolated) {
    return networkIsolated ? cases : cases.stream().filter(c -> !c.networkIsolatedOnly()).toList();
  }

  /** The action for these arguments: the first case that holds, else {@link #action}. */
  public SeccompAction decide(long[] args, boolean networkIsolated) {
    for (ArgCase c : cases) {
      if ((networkIsolated || !c.networkIsolatedOnly()) && c.matches(args)) {
        return c.action();
      }
    }
    return action;
  }
}
