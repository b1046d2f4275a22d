package dev.kavach.scanning;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Finds the exact values of known secrets, and their common encodings, in output: an Aho-Corasick
 * automaton over bytes, linear in the output whatever it contains.
 *
 * <p>Forms of each value (and of its whitespace-trimmed value, when different): the bytes
 * themselves; hex in lower and upper case; standard and URL-safe base64, padded, and the part that
 * depends only on the secret's bytes at each of the three alignments it can take inside a longer
 * base64 stream. Percent-encoding is handled by scanning a decoded copy of the output (any mix of
 * escaped and literal bytes, either hex case), and {@code +} as a space when a secret contains one.
 * A suffix of the output that is the first 8 or more bytes of a form is reported too, so that a
 * secret cut off at the capture limit is still caught.
 *
 * <p>Values shorter than {@link #MIN_SECRET_BYTES} are not matched (they would match ordinary
 * text), and an encoded form shorter than {@link #MIN_FORM_BYTES} is skipped for the same reason.
 * What this cannot catch: a secret the command transforms otherwise (split, reversed, re-encoded
 * with line breaks, encrypted). The gate is a net for accidental and lazy leaks; the network policy
 * is the boundary.
 *
 * <p>The automaton holds the secrets' bytes; {@link #close()} zeroes every array.
 */
final class SecretMatcher implements AutoCloseable {
  static final int MIN_SECRET_BYTES = 4;
  static final int MIN_FORM_BYTES = 6;
  static final int MIN_PARTIAL_BYTES = 8;

  static final int RAW = 0;
  static final int TRIMMED = 1;
  static final int HEX = 2;
  static final int HEX_UPPER = 3;
  static final int BASE64 = 4;
  static final int BASE64_URL = 5;
  static final int URL_ENCODED = 6;
  static final int PARTIAL = 7;

  private static final String[] FORM_NAMES = {
    "raw", "trimmed", "hex", "hex", "base64", "base64url", "url-encoded", "prefix at end of output"
  };

  private final List<String> names;
  private final List<byte[]> patterns = new ArrayList<>();
  private final List<Integer> patternSecret = new ArrayList<>();
  private final List<Integer> patternForm = new ArrayList<>();
  private final boolean anySpace;

  // Trie in flat arrays. Node 0 is the root; edges form per-node sibling lists.
  private int nodes = 1;
  private int[] firstEdge = filled(64, -1);
  private int[] fail = new int[64];
  private int[] depth = new int[64];
  private int[] output = filled(64, -1); // a pattern ending at this node
  private int[] dictLink = new int[64]; // nearest proper suffix node with an output, 0 if none
  private int[] somePattern = filled(64, -1); // a pattern through this node (for prefixes)
  private int edges;
  private byte[] edgeLabel = new byte[64];
  private int[] edgeTarget = new int[64];
  private int[] edgeNext = new int[64];
  private int[] samePattern = new int[0]; // next pattern with the same bytes, -1 at the end
  private final int[] rootNext = new int[256];

  private SecretMatcher(List<String> names, List<byte[]> values) {
    this.names = List.copyOf(names);
    boolean space = false;
    for (int i = 0; i < values.size(); i++) {
      byte[] v = values.get(i);
      addForms(i, v, RAW);
      byte[] trimmed = trim(v);
      if (trimmed.length != v.length) {
        addForms(i, trimmed, TRIMMED);
      }
      for (byte c : v) {
        space |= c == ' ';
      }
    }
    this.anySpace = space;
    build();
  }

  /** A matcher for these secrets ({@code names.get(i)} names {@code values.get(i)}). */
  static SecretMatcher of(List<String> names, List<byte[]> values) {
    return new SecretMatcher(names, values);
  }

  boolean isEmpty() {
    return patterns.isEmpty();
  }

  String secretName(int aux) {
    return names.get(aux >>> 4);
  }

  static String formName(int aux) {
    return FORM_NAMES[aux & 0xf];
  }

  private void addForms(int secret, byte[] v, int rawForm) {
    if (v.length < MIN_SECRET_BYTES) {
      return;
    }
    addPattern(v, secret, rawForm);
    addPattern(hex(v, "0123456789abcdef"), secret, HEX);
    addPattern(hex(v, "0123456789ABCDEF"), secret, HEX_UPPER);
    Base64.Encoder std = Base64.getEncoder().withoutPadding();
    Base64.Encoder url = Base64.getUrlEncoder().withoutPadding();
    addPattern(Base64.getEncoder().encode(v), secret, BASE64);
    addPattern(Base64.getUrlEncoder().encode(v), secret, BASE64_URL);
    for (int offset = 0; offset < 3; offset++) {
      addPattern(base64Core(std, v, offset), secret, BASE64);
      addPattern(base64Core(url, v, offset), secret, BASE64_URL);
    }
  }

  /**
   * The base64 characters that depend only on {@code v} when {@code v} follows {@code offset} other
   * bytes in the encoded stream: character c covers bits [6c, 6c+6), the secret bits [8 offset, 8
   * (offset + n)).
   */
  private static byte[] base64Core(Base64.Encoder encoder, byte[] v, int offset) {
    byte[] padded = new byte[offset + v.length + 2];
    System.arraycopy(v, 0, padded, offset, v.length);
    byte[] enc = encoder.encode(padded);
    int from = (8 * offset + 5) / 6;
    int to = 8 * (offset + v.length) / 6;
    byte[] core = Arrays.copyOfRange(enc, from, to);
    Arrays.fill(padded, (byte) 0);
    Arrays.fill(enc, (byte) 0);
    return core;
  }

  private void addPattern(byte[] p, int secret, int form) {
    if (p.length < (form == RAW || form == TRIMMED ? MIN_SECRET_BYTES : MIN_FORM_BYTES)) {
      Arrays.fill(p, (byte) 0);
      return;
    }
    for (byte[] q : patterns) {
      if (Arrays.equals(p, q)) {
        // Same bytes as an earlier form (hex of digits-only text, base64 without +/): one is
        // enough.
        Arrays.fill(p, (byte) 0);
        return;
      }
    }
    patterns.add(p);
    patternSecret.add(secret);
    patternForm.add(form);
  }

  private void build() {
    samePattern = filled(patterns.size(), -1);
    for (int pi = 0; pi < patterns.size(); pi++) {
      byte[] p = patterns.get(pi);
      int node = 0;
      for (byte c : p) {
        int next = child(node, c);
        if (next < 0) {
          next = newNode(depth[node] + 1);
          addEdge(node, c, next);
        }
        node = next;
        if (somePattern[node] < 0) {
          somePattern[node] = pi;
        }
      }
      if (output[node] < 0) {
        output[node] = pi;
      } else {
        samePattern[pi] = samePattern[output[node]];
        samePattern[output[node]] = pi;
      }
    }
    // Failure and dictionary links, breadth first.
    int[] queue = new int[nodes];
    int head = 0;
    int tail = 0;
    for (int e = firstEdge[0]; e >= 0; e = edgeNext[e]) {
      int t = edgeTarget[e];
      fail[t] = 0;
      queue[tail++] = t;
      rootNext[edgeLabel[e] & 0xff] = t;
    }
    while (head < tail) {
      int u = queue[head++];
      for (int e = firstEdge[u]; e >= 0; e = edgeNext[e]) {
        int v = edgeTarget[e];
        byte c = edgeLabel[e];
        int f = fail[u];
        int t;
        while ((t = step(f, c)) < 0) {
          f = fail[f];
        }
        fail[v] = t;
        dictLink[v] = output[t] >= 0 ? t : dictLink[t];
        queue[tail++] = v;
      }
    }
  }

  /**
   * The transition from {@code node} on {@code c}, following nothing; -1 if none (never at root).
   */
  private int step(int node, byte c) {
    return node == 0 ? rootNext[c & 0xff] : child(node, c);
  }

  private int child(int node, byte c) {
    for (int e = firstEdge[node]; e >= 0; e = edgeNext[e]) {
      if (edgeLabel[e] == c) {
        return edgeTarget[e];
      }
    }
    return -1;
  }

  private int newNode(int d) {
    if (nodes == fail.length) {
      int n = nodes * 2;
      firstEdge = grow(firstEdge, n, -1);
      fail = Arrays.copyOf(fail, n);
      depth = Arrays.copyOf(depth, n);
      output = grow(output, n, -1);
      dictLink = Arrays.copyOf(dictLink, n);
      somePattern = grow(somePattern, n, -1);
    }
    depth[nodes] = d;
    return nodes++;
  }

  private void addEdge(int from, byte c, int to) {
    if (edges == edgeLabel.length) {
      int n = edges * 2;
      edgeLabel = Arrays.copyOf(edgeLabel, n);
      edgeTarget = Arrays.copyOf(edgeTarget, n);
      edgeNext = Arrays.copyOf(edgeNext, n);
    }
    edgeLabel[edges] = c;
    edgeTarget[edges] = to;
    edgeNext[edges] = firstEdge[from];
    firstEdge[from] = edges;
    edges++;
  }

  /**
   * Appends every occurrence of a secret in {@code data[0..n)} as a span with rule {@code rule} and
   * aux {@code secret << 4 | form}. Overlapping occurrences of different forms are all kept; the
   * scanner resolves them.
   */
  void scan(byte[] data, int n, Matches out, int rule) {
    if (patterns.isEmpty()) {
      return;
    }
    int state = run(data, n, null, out, rule);
    // A suffix of the output that starts a form: the secret was cut off (capture limit, or the
    // command stopped mid-secret).
    if (depth[state] >= MIN_PARTIAL_BYTES && output[state] < 0) {
      int p = somePattern[state];
      out.add(n - depth[state], n, rule, patternSecret.get(p) << 4 | PARTIAL);
    }
    if (hasPercentEscape(data, n)) {
      decodedView(data, n, false, out, rule);
    }
    if (anySpace && indexOf(data, n, (byte) '+') >= 0) {
      decodedView(data, n, true, out, rule);
    }
  }

  /**
   * Runs the automaton over {@code data[0..n)}. With a {@code map}, positions are reported in the
   * original output: decoded byte k came from {@code [map[k], mapEnd[k])}.
   */
  private int run(byte[] data, int n, @Nullable View view, Matches out, int rule) {
    int state = 0;
    for (int i = 0; i < n; i++) {
      byte c = data[i];
      int t;
      while ((t = step(state, c)) < 0) {
        state = fail[state];
      }
      state = t;
      int o = output[state] >= 0 ? state : dictLink[state];
      while (o > 0) {
        int s = i + 1 - depth[o];
        for (int p = output[o]; p >= 0; p = samePattern[p]) {
          int form = patternForm.get(p);
          int start = s;
          int end = i + 1;
          if (view != null) {
            if (view.changed[i + 1] == view.changed[s]) {
              continue; // nothing decoded inside: the plain scan reported it already
            }
            start = view.map[s];
            end = view.mapEnd[i];
            form = URL_ENCODED;
          }
          out.add(start, end, rule, patternSecret.get(p) << 4 | form);
        }
        o = dictLink[o];
      }
    }
    return state;
  }

  /**
   * The output with percent escapes (and, if asked, {@code +}) decoded: decoded byte k came from
   * {@code [map[k], mapEnd[k])}, and {@code changed[k]} counts the decoded bytes before k that
   * differ from their source.
   */
  private static final class View {
    final byte[] bytes;
    final int[] map;
    final int[] mapEnd;
    final int[] changed;

    View(int n) {
      bytes = new byte[n];
      map = new int[n];
      mapEnd = new int[n];
      changed = new int[n + 1];
    }
  }

  private void decodedView(byte[] data, int n, boolean plusIsSpace, Matches out, int rule) {
    View v = new View(n);
    int k = 0;
    for (int i = 0; i < n; ) {
      int hi = data[i] == '%' && i + 2 < n ? hexValue(data[i + 1]) : -1;
      int lo = hi >= 0 ? hexValue(data[i + 2]) : -1;
      if (lo >= 0) {
        v.bytes[k] = (byte) (hi << 4 | lo);
        v.map[k] = i;
        v.mapEnd[k] = i + 3;
        v.changed[k + 1] = v.changed[k] + 1;
        i += 3;
      } else {
        boolean plus = plusIsSpace && data[i] == '+';
        v.bytes[k] = plus ? (byte) ' ' : data[i];
        v.map[k] = i;
        v.mapEnd[k] = i + 1;
        v.changed[k + 1] = v.changed[k] + (plus ? 1 : 0);
        i++;
      }
      k++;
    }
    run(v.bytes, k, v, out, rule);
    Arrays.fill(v.bytes, (byte) 0);
  }

  private static boolean hasPercentEscape(byte[] data, int n) {
    for (int i = 0; i + 2 < n; i++) {
      if (data[i] == '%' && hexValue(data[i + 1]) >= 0 && hexValue(data[i + 2]) >= 0) {
        return true;
      }
    }
    return false;
  }

  private static int hexValue(byte c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  private static int indexOf(byte[] data, int n, byte c) {
    for (int i = 0; i < n; i++) {
      if (data[i] == c) {
        return i;
      }
    }
    return -1;
  }

  private static byte[] hex(byte[] v, String digits) {
    byte[] out = new byte[v.length * 2];
    for (int i = 0; i < v.length; i++) {
      out[2 * i] = (byte) digits.charAt((v[i] >> 4) & 0xf);
      out[2 * i + 1] = (byte) digits.charAt(v[i] & 0xf);
    }
    return out;
  }

  private static byte[] trim(byte[] v) {
    int s = 0;
    int e = v.length;
    while (s < e && isSpace(v[s])) {
      s++;
    }
    while (e > s && isSpace(v[e - 1])) {
      e--;
    }
    return s == 0 && e == v.length ? v : Arrays.copyOfRange(v, s, e);
  }

  private static boolean isSpace(byte c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0b;
  }

  private static int[] filled(int n, int value) {
    int[] a = new int[n];
    Arrays.fill(a, value);
    return a;
  }

  private static int[] grow(int[] a, int n, int value) {
    int old = a.length;
    int[] b = Arrays.copyOf(a, n);
    Arrays.fill(b, old, n, value);
    return b;
  }

  /** Zeroes everything derived from the secrets. */
  @Override
  public void close() {
    for (byte[] p : patterns) {
      Arrays.fill(p, (byte) 0);
    }
    patterns.clear();
    Arrays.fill(edgeLabel, (byte) 0);
    Arrays.fill(rootNext, 0);
    Arrays.fill(edgeTarget, 0);
    Arrays.fill(firstEdge, -1);
    edges = 0;
    nodes = 1;
  }

  @Override
  public String toString() {
    return "SecretMatcher" + names;
  }
}
