package dev.kavach.scoring;

/**
 * One line of a score breakdown.
 *
 * @param name the control, for example {@code seccomp}
 * @param points points it is worth
 * @param counted whether it was counted (enforced, or for a declared score, requested and
 *     supported)
 * @param why what was found
 */
public record Modifier(String name, int points, boolean counted, String why) {}
