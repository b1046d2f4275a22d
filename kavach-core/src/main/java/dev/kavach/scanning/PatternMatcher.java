package dev.kavach.scanning;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The Rust crate's 17 secret patterns and the entropy rule, as hand-written matchers over UTF-8
 * bytes that find every match in time linear in the input.
 *
 * <p>Why not a regex engine: java.util.regex backtracks, and re2j (linear) measured 25 us on the
 * 130-character clean text and 12 ms on 64 KiB of log output here, 50 and 12 times over the budget.
 * The patterns are simple enough to match by hand, in one pass over 8-byte words (a few arithmetic
 * operations per byte of clean text, almost no branches):
 *
 * <ul>
 *   <li>Only quotes and {@code @} lead anywhere among the bytes. Quotes start the generic API key,
 *       the password assignment and the AWS secret key (all end in {@code ['"]...['"]}), {@code @}
 *       the email address.
 *   <li>The remaining patterns and the entropy rule match inside a run of at least 10
 *       non-whitespace bytes (a private-key header starts with one), so only such runs are looked
 *       at closer: dashes there start the Slack token, the SSN and the private-key headers; letters
 *       and {@code :} the other patterns.
 * </ul>
 *
 * <p>Semantics are those of the regexes' {@code find_iter} (leftmost-first, non-overlapping per
 * pattern), with ASCII classes: {@code \s} is {@code [\t\n\v\f\r ]}, {@code \d} is {@code [0-9]},
 * {@code \b} is an ASCII word boundary, case-insensitive means ASCII case, and a non-ASCII
 * character inside {@code [^'"]} or {@code [^\s]} counts as its UTF-8 bytes. {@code
 * PatternMatcherTest} checks every rule against re2j on generated inputs.
 *
 * <p>Each rule keeps {@code last[rule]}: no match of that rule may start before it (the end of its
 * previous match, as in {@code find_iter}, or a point before which a failed attempt proved there is
 * none). Every loop either consumes bytes no other attempt of the same rule will read again or
 * reads a bounded window, which is what keeps the whole scan linear on hostile output.
 */
final class PatternMatcher {
  static final int AWS_ACCESS_KEY = 0;
  static final int AWS_SECRET_KEY = 1;
  static final int GCP_API_KEY = 2;
  static final int GITHUB_TOKEN = 3;
  static final int STRIPE_KEY = 4;
  static final int SLACK_TOKEN = 5;
  static final int GENERIC_API_KEY = 6;
  static final int BEARER_TOKEN = 7;
  static final int JWT = 8;
  static final int RSA_KEY = 9;
  static final int EC_KEY = 10;
  static final int OPENSSH_KEY = 11;
  static final int PRIVATE_KEY = 12;
  static final int PASSWORD = 13;
  static final int DATABASE_URL = 14;
  static final int EMAIL = 15;
  static final int SSN = 16;

  /** The number of named (regex) rules; the entropy rule comes after them. */
  static final int NAMED_RULES = 17;

  static final int ENTROPY = 17;

  /** Tokens of at least this many bytes are candidates for the entropy rule. */
  static final int ENTROPY_MIN_LENGTH = 20;

  /** Bits per symbol above which a token is reported. */
  static final double ENTROPY_THRESHOLD = 4.5;

  /**
   * The shortest run of non-whitespace that can hold a run-scanned rule's match, or the part of it
   * that starts the match: {@code -----BEGIN} of a private-key header (10), an SSN (11), a Slack
   * token (15), {@code redis://} and 10 bytes (18), the rest longer.
   */
  private static final int MIN_RUN = 10;

  private static final int WS = 1; // [\t\n\v\f\r ]
  private static final int TOKEN = 1 << 1; // [A-Za-z0-9+/=_-]: entropy tokens
  private static final int BEARER = 1 << 2; // [A-Za-z0-9._~+/-]
  private static final int WORD = 1 << 3; // [A-Za-z0-9_]
  private static final int ALNUM = 1 << 4; // [A-Za-z0-9]
  private static final int UPPER_DIGIT = 1 << 5; // [0-9A-Z]
  private static final int DIGIT = 1 << 6; // [0-9]
  private static final int AWS40 = 1 << 7; // [0-9a-zA-Z/+]
  private static final int JWT_CHAR = 1 << 8; // [A-Za-z0-9_-]: also the GCP key body
  private static final int SLACK_CHAR = 1 << 9; // [0-9a-zA-Z-]
  private static final int LOCAL = 1 << 10; // [a-zA-Z0-9._%+-]
  private static final int DOMAIN = 1 << 11; // [a-zA-Z0-9.-]
  private static final int ALPHA = 1 << 12; // [a-zA-Z]
  private static final int QUOTE = 1 << 13; // ['"]
  private static final int DASH = 1 << 14;
  private static final int AT = 1 << 15;
  private static final int TRIGGER = QUOTE | AT;

  private static final int[] CLASS = classes();

  private static final byte[][] API_KEYWORDS = ascii("api_key", "api-key", "apikey");
  private static final byte[][] PASSWORD_KEYWORDS = ascii("password", "passwd", "pwd");
  private static final byte[][] DATABASE_SCHEMES = ascii("postgres", "mysql", "mongodb", "redis");
  private static final byte[] BEGIN = ascii("-----BEGIN ")[0];
  private static final byte[][] KEY_HEADERS =
      ascii(
          "-----BEGIN RSA PRIVATE KEY-----",
          "-----BEGIN EC PRIVATE KEY-----",
          "-----BEGIN OPENSSH PRIVATE KEY-----",
          "-----BEGIN PRIVATE KEY-----");
  private static final int[] KEY_RULES = {RSA_KEY, EC_KEY, OPENSSH_KEY, PRIVATE_KEY};

  private final byte[] b;
  private final int n;
  private final Matches out;
  private final boolean validateSsn;
  private final int[] last = new int[NAMED_RULES + 1];
  private int[] symbolCounts = new int[0];

  private PatternMatcher(byte[] b, int n, Matches out, boolean validateSsn) {
    this.b = b;
    this.n = n;
    this.out = out;
    this.validateSsn = validateSsn;
  }

  /**
   * Appends every match of every rule in {@code b[0..n)} to {@code out}.
   *
   * @param validateSsn whether SSN matches must also pass {@link #plausibleSsn} (off only to
   *     compare the raw pattern with its regex)
   */
  static void scan(byte[] b, int n, Matches out, boolean validateSsn) {
    new PatternMatcher(b, n, out, validateSsn).sweep();
  }

  /**
   * One pass, eight bytes at a time: a word with a quote, dash or {@code @} is looked at byte by
   * byte; the whitespace bytes of a word end the current non-whitespace run, and a run of {@link
   * #MIN_RUN} bytes or more goes to {@link #runRules}. Runs shorter than 8 bytes inside one word
   * cannot be long, so only a word's first and last whitespace matter. Clean text costs a few
   * arithmetic operations per byte and almost no branches.
   */
  private void sweep() {
    int runStart = 0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
      long w = (long) LONGS.get(b, i);
      // '"' (0x22) and '\'' (0x27) both become 0x27 with bits 0 and 2 set (so do '#' and '&',
      // which the byte-wise check then drops): one test for both quotes.
      if ((anyByte(w | QUOTE_BITS, APOSTROPHES) | anyByte(w, ATS)) != 0) {
        for (int k = i; k < i + 8; k++) {
          trigger(k);
        }
      }
      long ws = whitespace(w);
      if (ws != 0) {
        int first = i + (Long.numberOfTrailingZeros(ws) >>> 3);
        if (first - runStart >= MIN_RUN) {
          runRules(runStart, first);
        }
        runStart = i + 8 - (Long.numberOfLeadingZeros(ws) >>> 3);
      }
    }
    for (; i < n; i++) {
      trigger(i);
      if (is(i, WS)) {
        if (i - runStart >= MIN_RUN) {
          runRules(runStart, i);
        }
        runStart = i + 1;
      }
    }
    if (n - runStart >= MIN_RUN) {
      runRules(runStart, n);
    }
  }

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long ONES = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;
  private static final long LOW7 = 0x7f7f7f7f7f7f7f7fL;
  private static final long QUOTE_BITS = ONES * 0x05;
  private static final long APOSTROPHES = ONES * '\'';
  private static final long ATS = ONES * '@';
  private static final long SPACES = ONES * ' ';
  private static final long BETWEEN_HIGH = 0x8d8d8d8d8d8d8d8dL; // 127 + 0x0e in every byte
  private static final long BETWEEN_LOW = 0x7777777777777777L; // 127 - 0x08 in every byte

  /**
   * Non-zero if some byte of {@code w} equals the byte repeated in {@code pattern} (flags above a
   * true match may be wrong: a filter only).
   */
  private static long anyByte(long w, long pattern) {
    long x = w ^ pattern;
    return (x - ONES) & ~x & HIGHS;
  }

  /** The high bit of every byte of {@code w} that is {@code [\t\n\v\f\r ]}, exactly. */
  private static long whitespace(long w) {
    long x = w ^ SPACES;
    long space = ~(((x & LOW7) + LOW7) | x) & HIGHS;
    // Bytes strictly between 0x08 and 0x0e (Hacker's Delight "hasbetween"; no carry crosses a
    // byte, so each flag is exact).
    long v = w & LOW7;
    long control = (BETWEEN_HIGH - v) & ~w & (v + BETWEEN_LOW) & HIGHS;
    return space | control;
  }

  private void trigger(int i) {
    int c = CLASS[b[i] & 0xff];
    if ((c & TRIGGER) == 0) {
      return;
    }
    if ((c & QUOTE) != 0) {
      quote(i);
    } else {
      email(i);
    }
  }

  /** Rules whose match contains the quote at {@code q}. */
  private void quote(int q) {
    // Generic API key and password: KEYWORD \s* [:=] \s* QUOTE. Read backwards from the quote;
    // the keyword end is the same for both rules.
    int k = skipWsBack(q - 1);
    if (k >= 0 && (b[k] == ':' || b[k] == '=')) {
      k = skipWsBack(k - 1);
      int s = keywordEndingAt(k, API_KEYWORDS);
      if (s >= last[GENERIC_API_KEY]) {
        int r = run(q + 1, n, ALNUM);
        if (r - (q + 1) >= 20 && r < n && is(r, QUOTE)) {
          add(s, r + 1, GENERIC_API_KEY);
        }
      }
      s = keywordEndingAt(k, PASSWORD_KEYWORDS);
      if (s >= last[PASSWORD]) {
        int r = q + 1;
        while (r < n && !is(r, QUOTE)) {
          r++;
        }
        if (r - (q + 1) >= 8 && r < n) {
          add(s, r + 1, PASSWORD);
        }
      }
    }
    awsSecretKey(q);
  }

  /**
   * {@code (?i)aws.{0,20}secret.{0,20}['"][0-9a-zA-Z/+]{40}['"]} with {@code q} as the opening
   * quote. Valid opening quotes are at least 41 bytes apart (40 non-quotes follow each), and from a
   * start {@code s} the opening quote lies in {@code [s+9, s+49]}: so every match starting in
   * {@code [q-49, q-9]} uses this quote and ends at {@code q+42}, whichever gaps the greedy
   * repetitions pick. It remains to find the leftmost such start.
   */
  private void awsSecretKey(int q) {
    if (q + 41 >= n || !is(q + 41, QUOTE)) {
      return;
    }
    for (int j = q + 1; j <= q + 40; j++) {
      if (!is(j, AWS40)) {
        return;
      }
    }
    int lo = Math.max(Math.max(last[AWS_SECRET_KEY], q - 49), 0);
    // '.' does not match a newline, so the whole prefix lies on the quote's line.
    for (int j = q - 1; j >= lo; j--) {
      if (b[j] == '\n') {
        lo = j + 1;
        break;
      }
    }
    for (int s = lo; s <= q - 9; s++) {
      if (!equalsIgnoreCase(s, "aws")) {
        continue;
      }
      // "secret" starts 0..20 bytes after "aws" and ends 0..20 bytes before the quote.
      int to = Math.min(s + 23, q - 6);
      for (int j = Math.max(s + 3, q - 26); j <= to; j++) {
        if (equalsIgnoreCase(j, "secret")) {
          add(s, q + 42, AWS_SECRET_KEY);
          return;
        }
      }
    }
  }

  /** Rules whose match contains the dash at {@code i} (inside a long enough run). */
  private void dash(int i) {
    // Slack: xox[bpas]-[0-9a-zA-Z-]{10,}
    if (i >= 4
        && i - 4 >= last[SLACK_TOKEN]
        && b[i - 4] == 'x'
        && b[i - 3] == 'o'
        && b[i - 2] == 'x'
        && (b[i - 1] == 'b' || b[i - 1] == 'p' || b[i - 1] == 'a' || b[i - 1] == 's')) {
      int r = run(i + 1, n, SLACK_CHAR);
      if (r - (i + 1) >= 10) {
        add(i - 4, r, SLACK_TOKEN);
      }
    }
    // SSN: \b\d{3}-\d{2}-\d{4}\b, with i the first dash.
    int s = i - 3;
    if (s >= last[SSN]
        && s >= 0
        && i + 8 <= n
        && digits(s, 3)
        && digits(i + 1, 2)
        && b[i + 3] == '-'
        && digits(i + 4, 4)
        && (s == 0 || !is(s - 1, WORD))
        && (i + 8 == n || !is(i + 8, WORD))
        && (!validateSsn || plausibleSsn(b, s, n))) {
      add(s, i + 8, SSN);
    }
    // Private-key headers.
    if (n - i >= KEY_HEADERS[3].length && startsWith(i, BEGIN)) {
      for (int k = 0; k < KEY_HEADERS.length; k++) {
        if (i >= last[KEY_RULES[k]] && startsWith(i, KEY_HEADERS[k])) {
          add(i, i + KEY_HEADERS[k].length, KEY_RULES[k]);
        }
      }
    }
  }

  /**
   * Whether an SSN-shaped match is a plausible US social security number. The Rust pattern is
   * Critical and matched any {@code ddd-dd-dddd}, so part numbers, serials and phone fragments
   * blocked output. We keep the severity (a real SSN is critical PII) and drop what cannot be an
   * SSN: area 000, 666 or 900-999, group 00, serial 0000 (SSA rules since 1972 and 2011), and a
   * match that continues a longer dashed or dotted number ({@code 1-555-12-3456}, {@code
   * 123-45-6789-0}), which is an identifier of another shape.
   */
  static boolean plausibleSsn(byte[] b, int s, int n) {
    int area = (b[s] - '0') * 100 + (b[s + 1] - '0') * 10 + (b[s + 2] - '0');
    int group = (b[s + 4] - '0') * 10 + (b[s + 5] - '0');
    int serial =
        (b[s + 7] - '0') * 1000
            + (b[s + 8] - '0') * 100
            + (b[s + 9] - '0') * 10
            + (b[s + 10] - '0');
    if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0) {
      return false;
    }
    boolean continuesLeft = s >= 2 && (b[s - 1] == '-' || b[s - 1] == '.') && isDigit(b[s - 2]);
    boolean continuesRight =
        s + 12 < n && (b[s + 11] == '-' || b[s + 11] == '.') && isDigit(b[s + 12]);
    return !continuesLeft && !continuesRight;
  }

  /** {@code [a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}} around the {@code @} at {@code at}. */
  private void email(int at) {
    // The local part is the class run right before '@' ('@' is not in it, so runs before
    // different '@'s never overlap).
    int s = at;
    while (s > last[EMAIL] && is(s - 1, LOCAL)) {
      s--;
    }
    if (s == at) {
      return;
    }
    int d = run(at + 1, n, DOMAIN);
    // The greedy domain gives back to the rightmost '.' that has a domain byte before it and
    // two or more letters after it; the top-level domain then takes every letter that follows.
    int letters = 0;
    for (int p = d - 1; p > at + 1; p--) {
      if (b[p] == '.' && letters >= 2) {
        add(s, p + 1 + letters, EMAIL);
        return;
      }
      letters = is(p, ALPHA) ? letters + 1 : 0;
    }
  }

  // ---- inside runs of non-whitespace ----

  /** The rules that match inside the non-whitespace run {@code [s, e)}. */
  private void runRules(int s, int e) {
    bearerToken(s, e);
    int tokenStart = s;
    for (int j = s; j < e; j++) {
      byte c = b[j];
      if ((CLASS[c & 0xff] & TOKEN) == 0) {
        entropy(tokenStart, j);
        tokenStart = j + 1;
      }
      switch (c) {
        case 'A' -> {
          awsAccessKey(j, e);
          gcpApiKey(j, e);
        }
        case 'g' -> githubToken(j, e);
        case 's' -> stripeKey(j, e);
        case 'e' -> jwt(j, e);
        case ':' -> databaseUrl(j, e);
        case '-' -> dash(j);
        default -> {}
      }
    }
    entropy(tokenStart, e);
  }

  /** {@code AKIA[0-9A-Z]{16}}. */
  private void awsAccessKey(int j, int e) {
    if (j >= last[AWS_ACCESS_KEY]
        && j + 20 <= e
        && b[j + 1] == 'K'
        && b[j + 2] == 'I'
        && b[j + 3] == 'A'
        && all(j + 4, j + 20, UPPER_DIGIT)) {
      add(j, j + 20, AWS_ACCESS_KEY);
    }
  }

  /** {@code AIza[0-9A-Za-z\-_]{35}}. */
  private void gcpApiKey(int j, int e) {
    if (j >= last[GCP_API_KEY]
        && j + 39 <= e
        && b[j + 1] == 'I'
        && b[j + 2] == 'z'
        && b[j + 3] == 'a'
        && all(j + 4, j + 39, JWT_CHAR)) {
      add(j, j + 39, GCP_API_KEY);
    }
  }

  /** {@code gh[ps]_[A-Za-z0-9_]{36,}}. */
  private void githubToken(int j, int e) {
    if (j >= last[GITHUB_TOKEN]
        && j + 40 <= e
        && b[j + 1] == 'h'
        && (b[j + 2] == 'p' || b[j + 2] == 's')
        && b[j + 3] == '_') {
      int r = run(j + 4, e, WORD);
      if (r - (j + 4) >= 36) {
        add(j, r, GITHUB_TOKEN);
      }
    }
  }

  /** {@code sk_(live|test)_[0-9a-zA-Z]{24,}}. */
  private void stripeKey(int j, int e) {
    if (j >= last[STRIPE_KEY]
        && j + 32 <= e
        && b[j + 1] == 'k'
        && b[j + 2] == '_'
        && (startsWith(j + 3, LIVE) || startsWith(j + 3, TEST))
        && b[j + 7] == '_') {
      int r = run(j + 8, e, ALNUM);
      if (r - (j + 8) >= 24) {
        add(j, r, STRIPE_KEY);
      }
    }
  }

  private static final byte[] LIVE = ascii("live")[0];
  private static final byte[] TEST = ascii("test")[0];

  /**
   * {@code eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}}. The segments are
   * maximal runs ('.' is not in the class), so a failed attempt fails for every later start in the
   * same first segment too: {@code last} moves past it.
   */
  private void jwt(int j, int e) {
    if (j < last[JWT] || j + 3 > e || b[j + 1] != 'y' || b[j + 2] != 'J') {
      return;
    }
    int a1 = run(j + 3, e, JWT_CHAR);
    int end = -1;
    if (a1 - (j + 3) >= 10 && a1 + 4 <= e && b[a1] == '.') {
      int p = a1 + 1;
      if (b[p] == 'e' && b[p + 1] == 'y' && b[p + 2] == 'J') {
        int a2 = run(p + 3, e, JWT_CHAR);
        if (a2 - (p + 3) >= 10 && a2 < e && b[a2] == '.') {
          int a3 = run(a2 + 1, e, JWT_CHAR);
          if (a3 - (a2 + 1) >= 10) {
            end = a3;
          }
        }
      }
    }
    if (end >= 0) {
      add(j, end, JWT);
    } else {
      last[JWT] = a1;
    }
  }

  /**
   * {@code (?i)(postgres|mysql|mongodb|redis)://[^\s]{10,}} at the {@code ://} at {@code j}. The
   * match runs to the end of the non-whitespace run, so there is at most one per run.
   */
  private void databaseUrl(int j, int e) {
    if (j + 3 > e || b[j + 1] != '/' || b[j + 2] != '/' || e - (j + 3) < 10) {
      return;
    }
    int s = keywordEndingAt(j - 1, DATABASE_SCHEMES);
    if (s >= 0 && s >= last[DATABASE_URL]) {
      add(s, e, DATABASE_URL);
    }
  }

  /**
   * {@code (?i)bearer\s+[a-zA-Z0-9\-._~+/]{20,}}: the token follows whitespace, so it starts a
   * non-whitespace run; only the run's start needs checking.
   */
  private void bearerToken(int s, int e) {
    if (s == 0) {
      return;
    }
    int r = run(s, e, BEARER);
    if (r - s < 20) {
      return;
    }
    int k = skipWsBack(s - 1);
    int start = k - 5;
    if (start >= last[BEARER_TOKEN] && equalsIgnoreCase(start, "bearer")) {
      add(start, r, BEARER_TOKEN);
    }
  }

  /**
   * The entropy rule on the token {@code [s, e)}: Shannon entropy over its bytes above 4.5 bits. A
   * token of n bytes has at most log2(n) bits, so tokens under 23 bytes (log2(22) = 4.46) are
   * skipped without counting.
   */
  private void entropy(int s, int e) {
    int len = e - s;
    if (len < 23) {
      return;
    }
    if (symbolCounts.length == 0) {
      symbolCounts = new int[128];
    }
    int[] counts = symbolCounts;
    for (int j = s; j < e; j++) {
      counts[b[j]]++;
    }
    double sum = 0;
    for (int j = s; j < e; j++) {
      int c = counts[b[j]];
      if (c > 0) {
        sum += c * Math.log(c);
        counts[b[j]] = 0;
      }
    }
    double bits = (Math.log(len) - sum / len) / Math.log(2);
    if (bits > ENTROPY_THRESHOLD) {
      add(s, e, ENTROPY);
    }
  }

  // ---- helpers ----

  private void add(int s, int e, int rule) {
    out.add(s, e, rule, 0);
    last[rule] = e;
  }

  private boolean is(int i, int cls) {
    return (CLASS[b[i] & 0xff] & cls) != 0;
  }

  private static boolean isDigit(byte c) {
    return c >= '0' && c <= '9';
  }

  private int run(int from, int to, int cls) {
    int r = from;
    while (r < to && (CLASS[b[r] & 0xff] & cls) != 0) {
      r++;
    }
    return r;
  }

  private boolean all(int from, int to, int cls) {
    return run(from, to, cls) == to;
  }

  private boolean digits(int from, int count) {
    return all(from, from + count, DIGIT);
  }

  private int skipWsBack(int k) {
    while (k >= 0 && is(k, WS)) {
      k--;
    }
    return k;
  }

  private boolean startsWith(int at, byte[] literal) {
    if (at < 0 || n - at < literal.length) {
      return false;
    }
    for (int i = 0; i < literal.length; i++) {
      if (b[at + i] != literal[i]) {
        return false;
      }
    }
    return true;
  }

  /** ASCII case-insensitive comparison with a lower-case literal. */
  private boolean equalsIgnoreCase(int at, String lower) {
    if (at < 0 || n - at < lower.length()) {
      return false;
    }
    for (int i = 0; i < lower.length(); i++) {
      int c = b[at + i];
      if (c >= 'A' && c <= 'Z') {
        c += 'a' - 'A';
      }
      if (c != lower.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** The start of the keyword (ASCII case-insensitive) ending at {@code k}, or -1. */
  private int keywordEndingAt(int k, byte[][] keywords) {
    for (byte[] w : keywords) {
      int s = k - w.length + 1;
      if (s >= 0 && equalsIgnoreCase(s, w)) {
        return s;
      }
    }
    return -1;
  }

  private boolean equalsIgnoreCase(int at, byte[] lower) {
    for (int i = 0; i < lower.length; i++) {
      int c = b[at + i];
      if (c >= 'A' && c <= 'Z') {
        c += 'a' - 'A';
      }
      if (c != lower[i]) {
        return false;
      }
    }
    return true;
  }

  private static byte[][] ascii(String... words) {
    byte[][] out = new byte[words.length][];
    for (int i = 0; i < words.length; i++) {
      out[i] = words[i].getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
    return out;
  }

  private static int[] classes() {
    int[] t = new int[256];
    for (int c = 0; c < 128; c++) {
      boolean upper = c >= 'A' && c <= 'Z';
      boolean lower = c >= 'a' && c <= 'z';
      boolean digit = c >= '0' && c <= '9';
      boolean alpha = upper || lower;
      boolean alnum = alpha || digit;
      int v = 0;
      if (c == '\t' || c == '\n' || c == 0x0b || c == '\f' || c == '\r' || c == ' ') {
        v |= WS;
      }
      if (alnum || c == '+' || c == '/' || c == '=' || c == '_' || c == '-') {
        v |= TOKEN;
      }
      if (alnum || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
        v |= BEARER;
      }
      if (alnum || c == '_') {
        v |= WORD;
      }
      if (alnum) {
        v |= ALNUM;
      }
      if (upper || digit) {
        v |= UPPER_DIGIT;
      }
      if (digit) {
        v |= DIGIT;
      }
      if (alnum || c == '/' || c == '+') {
        v |= AWS40;
      }
      if (alnum || c == '_' || c == '-') {
        v |= JWT_CHAR;
      }
      if (alnum || c == '-') {
        v |= SLACK_CHAR;
      }
      if (alnum || c == '.' || c == '_' || c == '%' || c == '+' || c == '-') {
        v |= LOCAL;
      }
      if (alnum || c == '.' || c == '-') {
        v |= DOMAIN;
      }
      if (alpha) {
        v |= ALPHA;
      }
      if (c == '\'' || c == '"') {
        v |= QUOTE;
      }
      if (c == '-') {
        v |= DASH;
      }
      if (c == '@') {
        v |= AT;
      }
      t[c] = v;
    }
    return t;
  }
}
