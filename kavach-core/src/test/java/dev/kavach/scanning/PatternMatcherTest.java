package dev.kavach.scanning;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The hand-written matchers against re2j running the Rust regexes, on inputs generated to be dense
 * in near-misses: every rule must report exactly the spans of the regex's find-all (leftmost-first,
 * non-overlapping).
 */
class PatternMatcherTest {
  private static final int CASES_PER_RULE = 3000;

  /** Fragments that start, end, break or almost complete the patterns. */
  private static final String[] FRAGMENTS = {
    "AKIA",
    "AIza",
    "aws",
    "AWS",
    "Aws_",
    "secret",
    "SECRET",
    "_secret",
    "'",
    "\"",
    "'",
    "\"",
    "ghp_",
    "ghs_",
    "gh",
    "sk_live_",
    "sk_test_",
    "sk_",
    "xoxb-",
    "xoxp-",
    "xox",
    "-",
    "--",
    "api_key",
    "API-KEY",
    "apikey",
    "api",
    "=",
    ":",
    " ",
    "  ",
    "\t",
    "\n",
    "\r",
    "bearer",
    "Bearer ",
    "eyJ",
    ".",
    ".eyJ",
    "-----BEGIN ",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----",
    "-----BEGIN EC PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "RSA PRIVATE KEY-----",
    "password",
    "PASSWD",
    "pwd",
    "postgres://",
    "mysql://",
    "mongodb://",
    "redis://",
    "REDIS:",
    "://",
    "@",
    "@@",
    "x@y.co",
    "example.com",
    ".org",
    "123",
    "45",
    "6789",
    "12",
    "999",
    "_",
    "%",
    "+",
    "/",
    "~",
    "==",
  };

  private static final String CLASS_CHARS =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-.~%";

  private static final String UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

  private static String generate(SplittableRandom rnd) {
    StringBuilder b = new StringBuilder();
    int parts = rnd.nextInt(1, 30);
    for (int i = 0; i < parts; i++) {
      switch (rnd.nextInt(6)) {
        case 4 -> template(rnd, b);
        case 0, 1 -> b.append(FRAGMENTS[rnd.nextInt(FRAGMENTS.length)]);
        case 3 -> {
          // A run of exactly (or about) a pattern's fixed length, alphanumerics plus / and +.
          int[] lengths = {9, 10, 16, 20, 24, 35, 36, 39, 40, 41};
          int len = lengths[rnd.nextInt(lengths.length)];
          for (int k = 0; k < len; k++) {
            b.append(CLASS_CHARS.charAt(rnd.nextInt(64)));
          }
        }
        case 2 -> {
          // A run of class characters long enough to complete many patterns.
          int len = rnd.nextInt(5, 50);
          String chars = rnd.nextBoolean() ? UPPER_DIGITS : CLASS_CHARS.substring(0, 62);
          for (int k = 0; k < len; k++) {
            b.append(chars.charAt(rnd.nextInt(chars.length())));
          }
        }
        default -> b.append(CLASS_CHARS.charAt(rnd.nextInt(CLASS_CHARS.length())));
      }
    }
    return b.toString();
  }

  /** A near-complete instance of a multi-part pattern, with random gaps and lengths. */
  private static void template(SplittableRandom rnd, StringBuilder b) {
    String[] quotes = {"'", "\""};
    switch (rnd.nextInt(6)) {
      case 5 -> {
        b.append("AKIA");
        int len = rnd.nextInt(15, 18);
        for (int k = 0; k < len; k++) {
          b.append(UPPER_DIGITS.charAt(rnd.nextInt(UPPER_DIGITS.length())));
        }
      }
      case 4 -> {
        boolean exact = rnd.nextBoolean();
        int groups = exact ? 3 : rnd.nextInt(2, 5);
        int[] ssn = {3, 2, 4};
        for (int g = 0; g < groups; g++) {
          int len = exact ? ssn[g] : rnd.nextInt(2, 5);
          for (int k = 0; k < len; k++) {
            b.append((char) ('0' + rnd.nextInt(10)));
          }
          if (g < groups - 1) {
            b.append('-');
          }
        }
      }
      case 0 -> {
        b.append(rnd.nextBoolean() ? "aws" : "AwS");
        filler(rnd, b, rnd.nextInt(0, 24));
        b.append(rnd.nextBoolean() ? "secret" : "SeCrEt");
        filler(rnd, b, rnd.nextInt(0, 24));
        b.append(quotes[rnd.nextInt(2)]);
        int len = rnd.nextInt(38, 43);
        for (int k = 0; k < len; k++) {
          b.append(CLASS_CHARS.charAt(rnd.nextInt(64)));
        }
        b.append(quotes[rnd.nextInt(2)]);
      }
      case 1 -> {
        b.append(rnd.nextBoolean() ? "api_key" : "password");
        filler(rnd, b, rnd.nextInt(0, 3));
        b.append(rnd.nextBoolean() ? "=" : ":");
        filler(rnd, b, rnd.nextInt(0, 3));
        b.append(quotes[rnd.nextInt(2)]);
        int len = rnd.nextInt(5, 25);
        for (int k = 0; k < len; k++) {
          b.append(CLASS_CHARS.charAt(rnd.nextInt(62)));
        }
        b.append(quotes[rnd.nextInt(2)]);
      }
      case 2 -> {
        for (int seg = 0; seg < 3; seg++) {
          if (seg < 2 || rnd.nextBoolean()) {
            b.append("eyJ");
          }
          int len = rnd.nextInt(8, 13);
          for (int k = 0; k < len; k++) {
            b.append(CLASS_CHARS.charAt(rnd.nextInt(62)));
          }
          if (seg < 2) {
            b.append('.');
          }
        }
      }
      default -> {
        b.append(rnd.nextBoolean() ? "bearer" : "Bearer");
        filler(rnd, b, rnd.nextInt(0, 3));
        int len = rnd.nextInt(17, 23);
        for (int k = 0; k < len; k++) {
          b.append(CLASS_CHARS.charAt(rnd.nextInt(CLASS_CHARS.length())));
        }
      }
    }
  }

  private static void filler(SplittableRandom rnd, StringBuilder b, int len) {
    String chars = "  \t_-:=x\n";
    for (int k = 0; k < len; k++) {
      b.append(chars.charAt(rnd.nextInt(chars.length())));
    }
  }

  private static List<String> regexSpans(Pattern p, String s) {
    List<String> out = new ArrayList<>();
    Matcher m = p.matcher(s);
    while (m.find()) {
      out.add(m.start() + ".." + m.end());
    }
    return out;
  }

  private static List<String> ourSpans(int rule, String s) {
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    Matches m = new Matches();
    PatternMatcher.scan(b, b.length, m, false);
    List<String> out = new ArrayList<>();
    for (int i : m.sortedOrder()) {
      if (m.rule(i) == rule) {
        out.add(m.start(i) + ".." + m.end(i));
      }
    }
    return out;
  }

  @Test
  @Timeout(120)
  void everyRuleFindsExactlyWhatItsRegexFinds() {
    SplittableRandom rnd = new SplittableRandom(20261130L);
    for (int rule = 0; rule < PatternMatcher.NAMED_RULES; rule++) {
      SecretsScanner.Rule r = SecretsScanner.rules().get(rule);
      Pattern regex = Pattern.compile(r.pattern());
      int withMatches = 0;
      for (int i = 0; i < CASES_PER_RULE; i++) {
        String s = generate(rnd);
        List<String> expected = regexSpans(regex, s);
        assertThat(ourSpans(rule, s)).as(r.name() + " on \"" + s + "\"").isEqualTo(expected);
        if (!expected.isEmpty()) {
          withMatches++;
        }
      }
      // The generator must exercise the positive side too, or the comparison proves little.
      assertThat(withMatches).as(r.name() + ": generated inputs with a match").isGreaterThan(30);
    }
  }

  @Test
  void handPickedEdgeCasesAgreeWithTheRegexes() {
    String[] cases = {
      "AKIAIOSFODNN7EXAMPLEAKIAIOSFODNN7EXAMPLE",
      "AKIAAKIAIOSFODNN7EXAMPLE",
      "aws_secret='AKIAIOSFODNN7EXAMPLEAKIAIOSFODNN7EXAMPLE'",
      "aws secret secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'",
      "AWS\nsecret='wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'",
      "aws_secret_access_key=\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'"
          + "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'",
      "awsawsaws secret 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'",
      "x@y.co a@b.c a@b.cd.e a@b@c.de ..@x.y.zz a@-.zz",
      "user@@host.com bob@example.com.",
      "123-45-6789 0123-45-6789 123-45-67890 a123-45-6789 _123-45-6789 123-45-6789_",
      "password='hunter2hunter2' pwd: \"abc\" pwd = 'abcdefgh' passwd=\"12345678'",
      "api_key = 'abcdefghijklmnopqrstuvwxyz' APIKEY:\"ABCDEFGHIJKLMNOPQRSTUVWX\"",
      "postgres://user:pass@host/db redis://x mysql://aaaaaaaaaa MONGODB://aaaaaaaaaaaaaa",
      "Bearer abcdefghijklmnopqrstuvwxyz bearer\n\tabcdefghij.klmnopqrst~+/ bearerx abcdefghijklmnopqrstu",
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
      "eyJeyJeyJaaaaaaaaaaa.eyJbbbbbbbbbbbb.cccccccccccc",
      "xoxb-1234567890-abc xoxp-xoxb-123 xoxs-aaaaaaaaaaaaaaa",
      "ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ghs_short",
      "sk_live_aaaaaaaaaaaaaaaaaaaaaaaaaa sk_test_bbbbbbbbbbbbbbbbbbbbbbbb",
      "AIzaSyA-1234567890abcdefghijklmnopqrstuv",
      "-----BEGIN PRIVATE KEY-----BEGIN PRIVATE KEY-----",
      // The widest AWS secret key: both gaps at their 20-character maximum, and one over.
      "aws" + "x".repeat(20) + "secret" + "y".repeat(20) + "'" + "A".repeat(40) + "'",
      "aws" + "x".repeat(21) + "secret" + "y".repeat(20) + "'" + "A".repeat(40) + "'",
      "aws" + "x".repeat(20) + "secret" + "y".repeat(21) + "'" + "A".repeat(40) + "'",
      "1aws" + "x".repeat(20) + "secret" + "y".repeat(20) + "\"" + "a/+".repeat(13) + "b\"",
    };
    for (String s : cases) {
      for (int rule = 0; rule < PatternMatcher.NAMED_RULES; rule++) {
        Pattern regex = Pattern.compile(SecretsScanner.rules().get(rule).pattern());
        assertThat(ourSpans(rule, s))
            .as(SecretsScanner.rules().get(rule).name() + " on \"" + s + "\"")
            .isEqualTo(regexSpans(regex, s));
      }
    }
  }
}
