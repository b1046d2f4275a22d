package dev.kavach.egress;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Which destination addresses the proxy refuses by default, and the CIDR blocks an operator can
 * allow explicitly.
 *
 * <p>The check runs on the address the proxy is about to connect to, after its own single
 * resolution, so a name that resolves to a public address at check time cannot be made to reach
 * loopback or a metadata service later (DNS rebinding). IPv6 forms that embed an IPv4 address
 * (mapped, NAT64, 6to4) are judged by the embedded address, because that is where the packets go.
 */
final class Addresses {
  private Addresses() {}

  /** A block of addresses, IPv4 or IPv6. */
  // The prefix array is private to this class and never handed out or modified.
  @SuppressWarnings("ArrayRecordComponent")
  record Cidr(byte[] prefix, int bits, String text) {
    /** Parses {@code 10.0.0.0/8}, {@code fd00::/8} or a single address. */
    static Cidr parse(String text) {
      String t = text.trim();
      int slash = t.indexOf('/');
      String addr = slash < 0 ? t : t.substring(0, slash);
      byte[] bytes = literal(addr);
      if (bytes == null) {
        throw new IllegalArgumentException(
            "address block (\"" + text + "\") must be an IP address with an optional /bits");
      }
      int max = bytes.length * 8;
      int bits = max;
      if (slash >= 0) {
        try {
          bits = Integer.parseInt(t.substring(slash + 1));
        } catch (NumberFormatException e) {
          bits = -1;
        }
        if (bits < 0 || bits > max) {
          throw new IllegalArgumentException(
              "address block (\"" + text + "\") has a prefix length outside 0.." + max);
        }
      }
      return new Cidr(bytes, bits, t);
    }

    boolean contains(byte[] address) {
      if (address.length != prefix.length) {
        return false;
      }
      int full = bits / 8;
      for (int i = 0; i < full; i++) {
        if (address[i] != prefix[i]) {
          return false;
        }
      }
      int rest = bits % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xff << (8 - rest)) & 0xff;
      return (address[full] & mask) == (prefix[full] & mask);
    }

    @Override
    public boolean equals(@Nullable Object o) {
      return o instanceof Cidr c && c.text.equals(text);
    }

    @Override
    public int hashCode() {
      return text.hashCode();
    }

    @Override
    public String toString() {
      return text;
    }
  }

  // Blocks refused unless allowed, with the label used in deny reasons. Sources: RFC 6890 (special
  // purpose registries), RFC 6598 (CGNAT), RFC 4193 (ULA), cloud provider metadata documentation.
  private static final List<Range> V4 =
      List.of(
          range("169.254.169.254/32", "cloud metadata"),
          range("100.100.100.200/32", "cloud metadata"),
          range("0.0.0.0/8", "unspecified (this network)"),
          range("10.0.0.0/8", "private (RFC 1918)"),
          range("100.64.0.0/10", "shared address space (CGNAT)"),
          range("127.0.0.0/8", "loopback"),
          range("169.254.0.0/16", "link-local"),
          range("172.16.0.0/12", "private (RFC 1918)"),
          range("192.0.0.0/24", "IETF protocol assignments"),
          range("192.0.2.0/24", "documentation"),
          range("192.168.0.0/16", "private (RFC 1918)"),
          range("198.18.0.0/15", "benchmarking"),
          range("198.51.100.0/24", "documentation"),
          range("203.0.113.0/24", "documentation"),
          range("224.0.0.0/4", "multicast"),
          range("240.0.0.0/4", "reserved"));

  private static final List<Range> V6 =
      List.of(
          range("fd00:ec2::254/128", "cloud metadata"),
          range("::/128", "unspecified"),
          range("::1/128", "loopback"),
          // IPv4-compatible addresses are deprecated and have no legitimate destination.
          range("::/96", "IPv4-compatible (deprecated)"),
          range("64:ff9b:1::/48", "local-use NAT64"),
          range("100::/64", "discard-only"),
          // Teredo hides the real IPv4 endpoints behind an obfuscation; refuse it as a whole.
          range("2001::/32", "Teredo tunnel"),
          range("2001:db8::/32", "documentation"),
          range("fc00::/7", "unique local (ULA)"),
          range("fe80::/10", "link-local"),
          range("fec0::/10", "site-local (deprecated)"),
          range("ff00::/8", "multicast"));

  /** Host names of metadata services that do not need DNS tricks to be dangerous. */
  static final List<String> METADATA_NAMES =
      List.of(
          "metadata.google.internal",
          "metadata.goog",
          "metadata",
          "instance-data",
          "instance-data.ec2.internal");

  private record Range(Cidr cidr, String label) {}

  private static Range range(String cidr, String label) {
    return new Range(Cidr.parse(cidr), label);
  }

  /**
   * Why this address is refused by default, or empty if it is an ordinary public address. The label
   * names the class, e.g. {@code loopback} or {@code cloud metadata}.
   */
  static Optional<String> refusedClass(InetAddress address) {
    byte[] b = address.getAddress();
    if (b.length == 4) {
      return classifyV4(b);
    }
    byte[] embedded = embeddedV4(b);
    if (embedded != null) {
      return classifyV4(embedded).map(l -> l + " via " + embeddedKind(b));
    }
    for (Range r : V6) {
      if (r.cidr.contains(b)) {
        return Optional.of(r.label);
      }
    }
    return Optional.empty();
  }

  private static Optional<String> classifyV4(byte[] b) {
    if ((b[0] & 0xff) == 255 && (b[1] & 0xff) == 255 && (b[2] & 0xff) == 255) {
      if ((b[3] & 0xff) == 255) {
        return Optional.of("broadcast");
      }
    }
    for (Range r : V4) {
      if (r.cidr.contains(b)) {
        return Optional.of(r.label);
      }
    }
    return Optional.empty();
  }

  /**
   * The IPv4 address that an IPv6 address carries and routes to: IPv4-mapped ({@code
   * ::ffff:a.b.c.d}), NAT64 ({@code 64:ff9b::a.b.c.d}) and 6to4 ({@code 2002:AABB:CCDD::}).
   */
  static byte @Nullable [] embeddedV4(byte[] b) {
    if (b.length != 16) {
      return null;
    }
    if (zero(b, 0, 10) && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
      return slice(b, 12);
    }
    if (b[0] == 0
        && (b[1] & 0xff) == 0x64
        && (b[2] & 0xff) == 0xff
        && (b[3] & 0xff) == 0x9b
        && zero(b, 4, 12)) {
      return slice(b, 12);
    }
    if ((b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x02) {
      return new byte[] {b[2], b[3], b[4], b[5]};
    }
    return null;
  }

  private static String embeddedKind(byte[] b) {
    if ((b[0] & 0xff) == 0x20) {
      return "6to4";
    }
    return b[1] == 0 ? "IPv4-mapped IPv6" : "NAT64";
  }

  private static boolean zero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private static byte[] slice(byte[] b, int from) {
    byte[] out = new byte[4];
    System.arraycopy(b, from, out, 0, 4);
    return out;
  }

  /**
   * The bytes of an IP literal (dotted-quad IPv4 with exactly four decimal parts, or IPv6 with
   * optional brackets), or null if {@code text} is not one. Never touches DNS.
   */
  static byte @Nullable [] literal(String text) {
    String t = text;
    if (t.startsWith("[") && t.endsWith("]")) {
      t = t.substring(1, t.length() - 1);
    }
    if (t.indexOf(':') >= 0) {
      // No zone ids (a scoped address is link-local anyway). The first character must be a hex
      // digit or a colon: the JDK then parses the string as an IPv6 literal and never looks it up.
      if (!t.matches("[0-9a-fA-F:][0-9a-fA-F:.]*")) {
        return null;
      }
      try {
        byte[] a = InetAddress.getByName(t).getAddress();
        return a.length == 16 ? a : v4InV6(a);
      } catch (UnknownHostException e) {
        return null;
      }
    }
    String[] parts = t.split("\\.", -1);
    if (parts.length != 4) {
      return null;
    }
    byte[] out = new byte[4];
    for (int i = 0; i < 4; i++) {
      String p = parts[i];
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
        return null;
      }
      int v = Integer.parseInt(p);
      if (v > 255) {
        return null;
      }
      out[i] = (byte) v;
    }
    return out;
  }

  // The JDK turns ::ffff:a.b.c.d into an Inet4Address; keep the 16-byte form for IPv6 blocks.
  private static byte[] v4InV6(byte[] v4) {
    byte[] out = new byte[16];
    out[10] = (byte) 0xff;
    out[11] = (byte) 0xff;
    System.arraycopy(v4, 0, out, 12, 4);
    return out;
  }

  /** Whether one of the blocks contains the address (or the IPv4 address it embeds). */
  static boolean inAny(List<Cidr> blocks, InetAddress address) {
    byte[] b = address.getAddress();
    byte[] embedded = embeddedV4(b);
    for (Cidr c : blocks) {
      if (c.contains(b) || (embedded != null && c.contains(embedded))) {
        return true;
      }
    }
    return false;
  }

  /** Text form of an address without the JDK's "host/" prefix. */
  static String text(InetAddress a) {
    String s = a.getHostAddress();
    int pct = s.indexOf('%');
    return (pct >= 0 ? s.substring(0, pct) : s).toLowerCase(Locale.ROOT);
  }

  /** Parses every block. */
  static List<Cidr> parseAll(List<String> blocks) {
    List<Cidr> out = new ArrayList<>();
    for (String b : blocks) {
      out.add(Cidr.parse(b));
    }
    return List.copyOf(out);
  }
}
