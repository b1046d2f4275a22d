package dev.kavach.internal.container;

import java.util.Objects;

/**
 * A seccomp profile in the form OCI runtimes take it.
 *
 * @param profile the profile's name as the policy gave it ({@code basic}, {@code strict}, a path)
 * @param linuxSeccomp the {@code linux.seccomp} object of an OCI runtime spec, as JSON
 */
public record SeccompJson(String profile, String linuxSeccomp) {

  /** Validates the fields are present. */
  public SeccompJson {
    Objects.requireNonNull(profile, "profile");
    Objects.requireNonNull(linuxSeccomp, "linuxSeccomp");
  }
}
