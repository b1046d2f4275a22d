package dev.kavach;

import static dev.kavach.SandboxState.CREATED;
import static dev.kavach.SandboxState.DESTROYED;
import static dev.kavach.SandboxState.PAUSED;
import static dev.kavach.SandboxState.RUNNING;
import static dev.kavach.SandboxState.STOPPED;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SandboxStateTest {
  // The Rust crate's table plus CREATED -> DESTROYED.
  private static final Map<SandboxState, Set<SandboxState>> ALLOWED =
      Map.of(
          CREATED, Set.of(RUNNING, DESTROYED),
          RUNNING, Set.of(PAUSED, STOPPED, DESTROYED),
          PAUSED, Set.of(RUNNING, STOPPED, DESTROYED),
          STOPPED, Set.of(DESTROYED),
          DESTROYED, Set.of());

  @Test
  void everyPairFollowsTheTable() {
    for (SandboxState from : SandboxState.values()) {
      for (SandboxState to : SandboxState.values()) {
        assertThat(from.canTransitionTo(to))
            .as(from + " -> " + to)
            .isEqualTo(ALLOWED.get(from).contains(to));
      }
    }
  }

  @Test
  void displaysLowerCase() {
    assertThat(PAUSED).hasToString("paused");
  }
}
