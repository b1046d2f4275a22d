package dev.kavach.credential;

import java.util.Optional;
import java.util.Set;

/** Resolves secret names to values at exec time. */
public interface CredentialSource {

  /**
   * The value of the named secret, or empty if unknown. The caller wipes the returned array after
   * use.
   */
  Optional<byte[]> resolve(String name);

  /**
   * Every name this source can resolve. The externalization gate looks for all of them in output,
   * not only those injected into the sandbox. A source that cannot list its names returns the empty
   * set (the default); then only the sandbox's configured secrets are looked for.
   */
  default Set<String> names() {
    return Set.of();
  }
}
