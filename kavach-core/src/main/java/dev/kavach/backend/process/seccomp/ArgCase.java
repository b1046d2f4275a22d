package dev.kavach.backend.process.seccomp;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * One case of a system call's argument checks: when every condition holds, the case's action
 * decides. A case with no conditions always holds.
 *
 * @param conditions tests that must all hold, at most one per argument (as in libseccomp and the
 *     OCI format, so the profile exports without change)
 * @param action what the filter does when the case holds
 * @param networkIsolatedOnly whether the case applies only to filters compiled for an isolated
 *     network ({@code "network": "isolated"} in the profile file)
 * @param why the reason for the case, from the profile file
 */
public record ArgCase(
    List<ArgCondition> conditions, SeccompAction action, boolean networkIsolatedOnly, String why) {

  /** Copies and validates. */
  public ArgCase {
    conditions = List.copyOf(conditions);
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(why, "why");
    Set<Integer> args = new HashSet<>();
    for (ArgCondition c : conditions) {
      if (!args.add(c.index())) {
        throw new IllegalArgumentException(
            "arg " + c.index() + " is tested twice in one case; split it into two cases");
      }
    }
  }

  /** Whether every condition holds for these arguments. */
  public boolean matches(long[] args) {
    for (ArgCondition c : conditions) {
      if (!c.test(args[c.index()])) {
        return false;
      }
    }
    return true;
  }

  /** Whether the case holds for every argument value. */
  public boolean unconditional() {
    return conditions.isEmpty();
  }
}
