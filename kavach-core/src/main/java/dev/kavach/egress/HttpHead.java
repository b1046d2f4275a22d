package dev.kavach.egress;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The start line and header fields of an HTTP/1.x message, read with limits and written back in a
 * normalised form (CRLF line ends, one field per line). Re-serialising rather than copying the raw
 * bytes means the destination parses exactly what the proxy checked.
 */
final class HttpHead {
  /** Longest request or status line. */
  static final int MAX_LINE = 8 * 1024;

  /** Longest head (start line and every field). */
  static final int MAX_HEAD = 64 * 1024;

  /** Most header fields. */
  static final int MAX_FIELDS = 128;

  // RFC 9110 token characters.
  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

  private String startLine;
  private final List<String[]> fields;

  private HttpHead(String startLine, List<String[]> fields) {
    this.startLine = startLine;
    this.fields = fields;
  }

  /**
   * Reads a head. Returns null if the stream ends before the first byte.
   *
   * @throws Denied (400) for a malformed or oversized head
   */
  static @Nullable HttpHead read(HttpInput in, String what) throws IOException, Denied {
    String start = in.readLine(MAX_LINE, what + " line");
    if (start == null) {
      return null;
    }
    // RFC 9112 2.2: a recipient may ignore empty lines before the request line.
    if (start.isEmpty()) {
      start = in.readLine(MAX_LINE, what + " line");
      if (start == null) {
        return null;
      }
    }
    int total = start.length();
    List<String[]> fields = new ArrayList<>();
    while (true) {
      String line = in.readLine(MAX_LINE, what + " header");
      if (line == null) {
        throw Denied.badRequest("connection closed inside the " + what + " head");
      }
      if (line.isEmpty()) {
        break;
      }
      total += line.length() + 2;
      if (total > MAX_HEAD) {
        throw Denied.badRequest(what + " head larger than " + MAX_HEAD + " bytes");
      }
      if (fields.size() >= MAX_FIELDS) {
        throw Denied.badRequest(what + " has more than " + MAX_FIELDS + " header fields");
      }
      if (line.charAt(0) == ' ' || line.charAt(0) == '\t') {
        // Obsolete line folding is a known request-smuggling vector (RFC 9112 5.2).
        throw Denied.badRequest("folded header line in the " + what);
      }
      int colon = line.indexOf(':');
      if (colon <= 0 || !TOKEN.matcher(line.substring(0, colon)).matches()) {
        throw Denied.badRequest("malformed header field in the " + what + ": " + clip(line));
      }
      fields.add(new String[] {line.substring(0, colon), line.substring(colon + 1).strip()});
    }
    return new HttpHead(start, fields);
  }

  static HttpHead of(String startLine) {
    return new HttpHead(startLine, new ArrayList<>());
  }

  String startLine() {
    return startLine;
  }

  void startLine(String line) {
    this.startLine = line;
  }

  /** Every field as a (name, value) pair, in order; the arrays are live. */
  List<String[]> fields() {
    return fields;
  }

  /** Values of a field, case-insensitive name. */
  List<String> all(String name) {
    List<String> out = new ArrayList<>();
    for (String[] f : fields) {
      if (f[0].equalsIgnoreCase(name)) {
        out.add(f[1]);
      }
    }
    return out;
  }

  /** The only value of a field, or null if absent; 400 if it appears twice. */
  @Nullable String single(String name) throws Denied {
    List<String> v = all(name);
    if (v.size() > 1) {
      throw Denied.badRequest("header " + name + " appears " + v.size() + " times");
    }
    return v.isEmpty() ? null : v.get(0);
  }

  /** Whether a comma-separated field contains the token, case-insensitive. */
  boolean hasToken(String name, String token) {
    for (String v : all(name)) {
      for (String t : v.split(",")) {
        if (t.strip().equalsIgnoreCase(token)) {
          return true;
        }
      }
    }
    return false;
  }

  void remove(String name) {
    fields.removeIf(f -> f[0].equalsIgnoreCase(name));
  }

  void set(String name, String value) {
    remove(name);
    fields.add(new String[] {name, value});
  }

  /**
   * Removes hop-by-hop fields (RFC 9110 7.6.1): those a proxy must not forward, including every
   * field the Connection header names.
   */
  void removeHopByHop() {
    List<String> named = new ArrayList<>();
    for (String v : all("Connection")) {
      for (String t : v.split(",")) {
        if (!t.isBlank()) {
          named.add(t.strip().toLowerCase(Locale.ROOT));
        }
      }
    }
    fields.removeIf(
        f -> {
          String n = f[0].toLowerCase(Locale.ROOT);
          return named.contains(n)
              || n.equals("connection")
              || n.equals("keep-alive")
              || n.equals("proxy-connection")
              || n.equals("proxy-authorization")
              || n.equals("proxy-authenticate")
              || n.equals("te")
              || n.equals("trailer")
              || n.equals("upgrade");
        });
  }

  byte[] bytes() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    write(out, startLine);
    for (String[] f : fields) {
      write(out, f[0] + ": " + f[1]);
    }
    out.write('\r');
    out.write('\n');
    return out.toByteArray();
  }

  private static void write(ByteArrayOutputStream out, String line) {
    out.writeBytes(line.getBytes(StandardCharsets.ISO_8859_1));
    out.write('\r');
    out.write('\n');
  }

  static String clip(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }
}
