package dev.kavach.audit;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The secret key of an audit chain's HMAC-SHA256: at least 32 bytes, written as hex (64 or more hex
 * digits, e.g. from {@code openssl rand -hex 32}). Hex because it survives environment variables,
 * files with a trailing newline and copy-paste unchanged, and cannot be confused with another
 * encoding.
 *
 * <pre>{@code
 * AuditKey key = AuditKey.fromEnvironment();          // KAVACH_AUDIT_KEY
 * AuditSink sink = AuditSink.chained(Path.of("audit.jsonl"), key);
 * }</pre>
 *
 * <p>{@link #destroy()} zeroes the key bytes held here. The JCE keeps its own copy inside {@link
 * Mac} instances, which Java gives no way to wipe; they become garbage when the sink is closed.
 */
public final class AuditKey {
  /** The environment variable {@link #fromEnvironment()} reads. */
  public static final String ENV = "KAVACH_AUDIT_KEY";

  /** The shortest key accepted, in bytes: the HMAC-SHA256 output size. */
  public static final int MIN_BYTES = 32;

  private static final int MAX_KEY_FILE_BYTES = 4096;

  private final byte[] key;
  private boolean destroyed;

  private AuditKey(byte[] key) {
    this.key = key;
  }

  /**
   * A key from raw bytes (copied).
   *
   * @throws KavachException with reason {@code POLICY_INVALID} if shorter than {@link #MIN_BYTES}
   */
  public static AuditKey of(byte[] key) {
    Objects.requireNonNull(key, "key");
    if (key.length < MIN_BYTES) {
      throw new KavachException(
          Reason.POLICY_INVALID,
          "audit key is " + key.length + " bytes; it must be at least " + MIN_BYTES);
    }
    return new AuditKey(key.clone());
  }

  /**
   * A key from hex digits (surrounding whitespace ignored).
   *
   * @param source names where the text came from, for error messages (never the text itself)
   */
  public static AuditKey fromHex(String hex, String source) {
    String t = hex.strip();
    if (t.length() < 2 * MIN_BYTES || t.length() % 2 != 0 || !t.chars().allMatch(AuditKey::isHex)) {
      throw new KavachException(
          Reason.POLICY_INVALID,
          source
              + " must be at least "
              + 2 * MIN_BYTES
              + " hex digits (an even number; e.g. `openssl rand -hex 32`), got "
              + t.length()
              + " characters");
    }
    byte[] bytes = HexFormat.of().parseHex(t);
    try {
      return of(bytes);
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  /**
   * The key in {@value #ENV}.
   *
   * @throws KavachException with reason {@code POLICY_INVALID} if unset or malformed
   */
  public static AuditKey fromEnvironment() {
    String v = System.getenv(ENV);
    if (v == null || v.isBlank()) {
      throw new KavachException(Reason.POLICY_INVALID, ENV + " is not set");
    }
    return fromHex(v, ENV);
  }

  /** The key written as hex in a file (for example one mounted from a secret store). */
  public static AuditKey fromFile(Path file) {
    try {
      long size = Files.size(file);
      if (size > MAX_KEY_FILE_BYTES) {
        throw new KavachException(
            Reason.POLICY_INVALID, "audit key file " + file + " is larger than 4 KiB");
      }
      byte[] raw = Files.readAllBytes(file);
      String text = new String(raw, StandardCharsets.US_ASCII);
      Arrays.fill(raw, (byte) 0);
      return fromHex(text, "audit key file " + file);
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot read audit key file " + file + ": " + e, e);
    }
  }

  /** A fresh HMAC-SHA256 keyed with this key. */
  synchronized Mac newMac() {
    if (destroyed) {
      throw new KavachException(Reason.POLICY_INVALID, "audit key was destroyed");
    }
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac;
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is required of every JVM", e);
    }
  }

  /** Zeroes the key; it cannot be used afterwards. */
  public synchronized void destroy() {
    Arrays.fill(key, (byte) 0);
    destroyed = true;
  }

  private static boolean isHex(int c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  /** Shows the size, never the key. */
  @Override
  public String toString() {
    return "AuditKey[" + 8 * key.length + " bits]";
  }
}
