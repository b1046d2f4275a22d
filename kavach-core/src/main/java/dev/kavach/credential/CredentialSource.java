package dev.kavach.credential;

import java.util.Optional;

/** Resolves secret names to values at exec time. */
public interface CredentialSource {

  /**
   * The value of the named secret, or empty if unknown. The caller wipes the returned array after
   * use.
   */
  Optional<byte[]> resolve(String name);
}
