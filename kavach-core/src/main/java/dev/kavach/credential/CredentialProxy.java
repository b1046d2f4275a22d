package dev.kavach.credential;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Holds secret values by name, for injection into sandboxes and for recognising them in what comes
 * back out. Values are held as bytes, handed out as copies, and zeroed by {@link #remove} and
 * {@link #close()}. Nothing it prints or throws carries a value: {@code toString}, exception
 * messages and the audit events of the sandboxes that use it name secrets only.
 *
 * <pre>{@code
 * try (CredentialProxy proxy = new CredentialProxy()) {
 *   proxy.registerFromEnv("github", "GITHUB_TOKEN");
 *   proxy.registerFromFile("db", Path.of("/run/secrets/db-password"));
 *   SandboxConfig config = SandboxConfig.builder()
 *       .credentials(proxy)
 *       .secret(SecretRef.env("github", "GH_TOKEN"))
 *       .secret(SecretRef.file("db", "/run/secrets/db"))
 *       .build();
 *   ...
 * }
 * }</pre>
 *
 * <p>What Java cannot wipe: a value read from the host environment also lives in the JVM's own copy
 * of the environment, and a value injected as an environment variable becomes a {@code String} on
 * its way to the backend. File and standard-input injection avoid the latter.
 */
public final class CredentialProxy implements CredentialSource, AutoCloseable {
  /** Secret files larger than this are refused rather than read. */
  public static final int MAX_FILE_BYTES = 1024 * 1024;

  private final Map<String, byte[]> values = new LinkedHashMap<>();
  private boolean closed;

  /** An empty proxy. */
  public CredentialProxy() {}

  /**
   * Registers a value (copied).
   *
   * @throws KavachException with reason {@code CREDENTIAL} if the name is taken or the value empty
   */
  public CredentialProxy register(String name, byte[] value) {
    Objects.requireNonNull(value, "value");
    put(name, value.clone());
    return this;
  }

  /** Registers a value given as characters, stored as UTF-8 (the array is not changed). */
  public CredentialProxy register(String name, char[] value) {
    Objects.requireNonNull(value, "value");
    ByteBuffer encoded;
    try {
      encoded =
          StandardCharsets.UTF_8
              .newEncoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .encode(CharBuffer.wrap(value));
    } catch (CharacterCodingException e) {
      throw new KavachException(
          Reason.CREDENTIAL, "secret " + name + " is not valid text (unpaired surrogate)");
    }
    byte[] bytes = new byte[encoded.remaining()];
    encoded.get(bytes);
    // Wipe the encoder's buffer: overwrite it through the buffer itself, whatever backs it.
    encoded.clear();
    while (encoded.hasRemaining()) {
      encoded.put((byte) 0);
    }
    put(name, bytes);
    return this;
  }

  /**
   * Registers the value of a host environment variable.
   *
   * @throws KavachException with reason {@code CREDENTIAL} if the variable is unset or empty
   */
  public CredentialProxy registerFromEnv(String name, String hostVariable) {
    Objects.requireNonNull(hostVariable, "hostVariable");
    String v = System.getenv(hostVariable);
    if (v == null || v.isEmpty()) {
      throw new KavachException(
          Reason.CREDENTIAL,
          "host environment variable " + hostVariable + " (for secret " + name + ") is not set");
    }
    put(name, v.getBytes(StandardCharsets.UTF_8));
    return this;
  }

  /**
   * Registers the content of a host file, byte for byte (a trailing newline is kept; the output
   * scanner also recognises the value without it).
   *
   * @throws KavachException with reason {@code CREDENTIAL} naming the file if it cannot be read or
   *     is larger than {@link #MAX_FILE_BYTES}
   */
  public CredentialProxy registerFromFile(String name, Path hostFile) {
    Objects.requireNonNull(hostFile, "hostFile");
    byte[] buf = new byte[8192];
    int n = 0;
    try (InputStream in = Files.newInputStream(hostFile)) {
      while (true) {
        if (n == buf.length) {
          if (buf.length > MAX_FILE_BYTES) {
            throw new KavachException(
                Reason.CREDENTIAL,
                "secret file " + hostFile + " (for secret " + name + ") is larger than 1 MiB");
          }
          byte[] bigger = Arrays.copyOf(buf, buf.length * 2);
          Arrays.fill(buf, (byte) 0);
          buf = bigger;
        }
        int r = in.read(buf, n, buf.length - n);
        if (r < 0) {
          break;
        }
        n += r;
      }
      if (n > MAX_FILE_BYTES) {
        throw new KavachException(
            Reason.CREDENTIAL,
            "secret file " + hostFile + " (for secret " + name + ") is larger than 1 MiB");
      }
      put(name, Arrays.copyOf(buf, n));
    } catch (IOException e) {
      throw new KavachException(
          Reason.CREDENTIAL,
          "cannot read secret file " + hostFile + " (for secret " + name + "): " + e,
          e);
    } finally {
      Arrays.fill(buf, (byte) 0);
    }
    return this;
  }

  private synchronized void put(String name, byte[] value) {
    SecretRef.checkName(name);
    checkOpen();
    if (value.length == 0) {
      throw new KavachException(Reason.CREDENTIAL, "secret " + name + " is empty");
    }
    if (values.containsKey(name)) {
      Arrays.fill(value, (byte) 0);
      throw new KavachException(
          Reason.CREDENTIAL, "secret " + name + " is already registered (remove it first)");
    }
    values.put(name, value);
  }

  /** A copy of the named value; the caller wipes it. */
  @Override
  public synchronized Optional<byte[]> resolve(String name) {
    checkOpen();
    byte[] v = values.get(name);
    return v == null ? Optional.empty() : Optional.of(v.clone());
  }

  /** The registered names, in registration order. */
  @Override
  public synchronized Set<String> names() {
    return Collections.unmodifiableSet(new LinkedHashSet<>(values.keySet()));
  }

  /** Whether a secret of this name is registered. */
  public synchronized boolean contains(String name) {
    return values.containsKey(name);
  }

  /** Forgets one secret, zeroing its value. Unknown names are ignored. */
  public synchronized void remove(String name) {
    byte[] v = values.remove(name);
    if (v != null) {
      Arrays.fill(v, (byte) 0);
    }
  }

  /** Zeroes and forgets every value; later resolution fails. Idempotent. */
  @Override
  public synchronized void close() {
    for (byte[] v : values.values()) {
      Arrays.fill(v, (byte) 0);
    }
    values.clear();
    closed = true;
  }

  private void checkOpen() {
    if (closed) {
      throw new KavachException(Reason.CREDENTIAL, "credential proxy is closed");
    }
  }

  /** Names the secrets, never their values. */
  @Override
  public synchronized String toString() {
    if (closed) {
      return "CredentialProxy[closed]";
    }
    List<String> names = new ArrayList<>(values.keySet());
    return "CredentialProxy" + names;
  }
}
