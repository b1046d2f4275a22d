package dev.kavach.egress;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/**
 * The few DER (X.690) encodings an X.509 certificate needs. The JDK parses certificates but has no
 * public API to build one; certificates are small and their structure is fixed, so a hundred lines
 * of encoder is a smaller risk than a cryptography dependency.
 */
final class Der {
  private static final DateTimeFormatter UTC_TIME = DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'");
  private static final DateTimeFormatter GENERALIZED_TIME =
      DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'");

  private Der() {}

  static byte[] tlv(int tag, byte[]... contents) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (byte[] c : contents) {
      body.writeBytes(c);
    }
    byte[] b = body.toByteArray();
    ByteArrayOutputStream out = new ByteArrayOutputStream(b.length + 6);
    out.write(tag);
    int n = b.length;
    if (n < 0x80) {
      out.write(n);
    } else {
      byte[] len = BigInteger.valueOf(n).toByteArray();
      int skip = len[0] == 0 ? 1 : 0;
      out.write(0x80 | (len.length - skip));
      out.write(len, skip, len.length - skip);
    }
    out.writeBytes(b);
    return out.toByteArray();
  }

  static byte[] sequence(byte[]... contents) {
    return tlv(0x30, contents);
  }

  static byte[] set(byte[]... contents) {
    return tlv(0x31, contents);
  }

  static byte[] integer(BigInteger v) {
    return tlv(0x02, v.toByteArray());
  }

  static byte[] integer(long v) {
    return integer(BigInteger.valueOf(v));
  }

  static byte[] bool(boolean v) {
    return tlv(0x01, new byte[] {v ? (byte) 0xff : 0});
  }

  static byte[] octetString(byte[] v) {
    return tlv(0x04, v);
  }

  /** A BIT STRING of whole bytes, or with {@code unusedBits} trailing bits unused. */
  static byte[] bitString(byte[] v, int unusedBits) {
    byte[] body = new byte[v.length + 1];
    body[0] = (byte) unusedBits;
    System.arraycopy(v, 0, body, 1, v.length);
    return tlv(0x03, body);
  }

  static byte[] utf8(String s) {
    return tlv(0x0c, s.getBytes(StandardCharsets.UTF_8));
  }

  /** UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5). */
  static byte[] time(ZonedDateTime t) {
    ZonedDateTime utc = t.withZoneSameInstant(ZoneOffset.UTC).withNano(0);
    if (utc.getYear() < 2050) {
      return tlv(0x17, UTC_TIME.format(utc).getBytes(StandardCharsets.US_ASCII));
    }
    return tlv(0x18, GENERALIZED_TIME.format(utc).getBytes(StandardCharsets.US_ASCII));
  }

  /** A context-specific tag: constructed (EXPLICIT, or IMPLICIT of a constructed type) or not. */
  static byte[] context(int number, boolean constructed, byte[]... contents) {
    return tlv((constructed ? 0xa0 : 0x80) | number, contents);
  }

  static byte[] oid(String dotted) {
    String[] parts = dotted.split("\\.");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(Integer.parseInt(parts[0]) * 40 + Integer.parseInt(parts[1]));
    for (int i = 2; i < parts.length; i++) {
      long v = Long.parseLong(parts[i]);
      byte[] tmp = new byte[10];
      int n = 0;
      do {
        tmp[n++] = (byte) (v & 0x7f);
        v >>>= 7;
      } while (v != 0);
      for (int j = n - 1; j >= 0; j--) {
        out.write(tmp[j] | (j > 0 ? 0x80 : 0));
      }
    }
    return tlv(0x06, out.toByteArray());
  }
}
