package dev.kavach.egress;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Reads the server name (SNI) from the first bytes a client sends into an opaque tunnel, when they
 * are a TLS ClientHello (RFC 8446 4.1.2, RFC 6066 3). The proxy checks the CONNECT host, not what
 * the tunnel carries; without this a client could tunnel to an allowed address and ask a server
 * there (a CDN edge) for a different site by name.
 *
 * <p>Only the first TLS record is read. Clients send the whole ClientHello in it (it is far below
 * the 16 KiB record limit), so a ClientHello continued in a second record is reported as {@link
 * Result#SPLIT}, which the proxy refuses rather than passing something it did not read.
 */
final class ClientHello {
  /** Bytes of a record header. */
  static final int HEADER = 5;

  /** Largest record payload (RFC 8446 5.1), plus expansion allowed for older versions. */
  static final int MAX_RECORD = 16384 + 2048;

  private ClientHello() {}

  /** What the first bytes are. */
  enum Kind {
    /** Not a TLS handshake record: some other protocol, passed as is. */
    NOT_TLS,
    /** A TLS handshake record whose end has not arrived yet. */
    INCOMPLETE,
    /** A ClientHello, with or without a server name. */
    HELLO,
    /** A TLS handshake whose ClientHello does not fit the first record, or is malformed. */
    SPLIT
  }

  /**
   * What was found.
   *
   * @param kind the kind
   * @param serverName the host name asked for, lower case without a trailing dot, or null
   * @param recordLength the bytes of the first record including its header (for {@link
   *     Kind#INCOMPLETE}: how many are needed)
   */
  record Result(Kind kind, @Nullable String serverName, int recordLength) {
    static final Result NOT_TLS = new Result(Kind.NOT_TLS, null, 0);
    static final Result SPLIT = new Result(Kind.SPLIT, null, 0);
  }

  /** Inspects {@code len} bytes at the start of {@code b}. */
  static Result inspect(byte[] b, int len) {
    if (len < 1 || b[0] != 0x16) {
      return Result.NOT_TLS;
    }
    if (len < HEADER) {
      return new Result(Kind.INCOMPLETE, null, HEADER);
    }
    if (b[1] != 0x03) {
      return Result.NOT_TLS;
    }
    int recordLength = HEADER + u16(b, 3);
    if (recordLength > HEADER + MAX_RECORD) {
      return Result.SPLIT;
    }
    if (len < recordLength) {
      return new Result(Kind.INCOMPLETE, null, recordLength);
    }
    try {
      return hello(b, recordLength);
    } catch (ArrayIndexOutOfBoundsException e) {
      return Result.SPLIT;
    }
  }

  private static Result hello(byte[] b, int end) {
    int p = HEADER;
    if (b[p] != 0x01) {
      return Result.SPLIT; // a first handshake message that is not a ClientHello
    }
    int helloEnd = p + 4 + u24(b, p + 1);
    if (helloEnd > end) {
      return Result.SPLIT;
    }
    p += 4 + 2 + 32; // type, length, legacy_version, random
    p += 1 + u8(b, p); // legacy_session_id
    p += 2 + u16(b, p); // cipher_suites
    p += 1 + u8(b, p); // legacy_compression_methods
    if (p == helloEnd) {
      return new Result(Kind.HELLO, null, end); // no extensions at all
    }
    int extEnd = p + 2 + u16(b, p);
    p += 2;
    if (extEnd > helloEnd) {
      return Result.SPLIT;
    }
    while (p + 4 <= extEnd) {
      int type = u16(b, p);
      int size = u16(b, p + 2);
      p += 4;
      if (p + size > extEnd) {
        return Result.SPLIT;
      }
      if (type == 0) {
        return new Result(Kind.HELLO, serverName(b, p, p + size), end);
      }
      p += size;
    }
    return new Result(Kind.HELLO, null, end);
  }

  private static @Nullable String serverName(byte[] b, int p, int end) {
    int listEnd = p + 2 + u16(b, p);
    p += 2;
    while (p + 3 <= Math.min(listEnd, end)) {
      int nameType = u8(b, p);
      int size = u16(b, p + 1);
      p += 3;
      if (nameType == 0) {
        String name = new String(b, p, size, StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT);
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
      }
      p += size;
    }
    return null;
  }

  private static int u8(byte[] b, int p) {
    return b[p] & 0xff;
  }

  private static int u16(byte[] b, int p) {
    return (u8(b, p) << 8) | u8(b, p + 1);
  }

  private static int u24(byte[] b, int p) {
    return (u8(b, p) << 16) | u16(b, p + 1);
  }
}
