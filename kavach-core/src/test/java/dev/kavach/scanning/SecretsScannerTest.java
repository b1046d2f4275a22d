package dev.kavach.scanning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SecretsScannerTest {
  private final SecretsScanner scanner = SecretsScanner.create();

  private List<String> names(String text) {
    return scanner.scan(text).stream().map(Finding::message).collect(Collectors.toList());
  }

  /** One positive and one near-miss sample per rule, with the Rust name, category, severity. */
  static List<Arguments> samples() {
    return List.of(
        Arguments.of(
            "AWS Access Key",
            "cloud_credential",
            Severity.CRITICAL,
            "key=AKIAIOSFODNN7EXAMPLE done",
            "key=AKIAiosfodnn7example done"),
        Arguments.of(
            "AWS Secret Key",
            "cloud_credential",
            Severity.CRITICAL,
            "aws_secret_access_key = \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"",
            "aws_secret_access_key = \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE\""),
        Arguments.of(
            "GCP API Key",
            "cloud_credential",
            Severity.HIGH,
            "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI",
            "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsH"),
        Arguments.of(
            "GitHub Token",
            "api_token",
            Severity.CRITICAL,
            "token ghp_16C7e42F292c6912E7710c838347Ae178B4a",
            "token ghx_16C7e42F292c6912E7710c838347Ae178B4a"),
        Arguments.of(
            "Stripe Secret Key",
            "api_token",
            Severity.CRITICAL,
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "sk_prod_4eC39HqLyjWDarjtT1zdp7dc"),
        Arguments.of(
            "Slack Token",
            "api_token",
            Severity.HIGH,
            "xoxb-123456789012-abcdef",
            "xoxz-123456789012-abcdef"),
        Arguments.of(
            "Generic API Key",
            "api_key",
            Severity.MEDIUM,
            "API_KEY: 'abcdefghij0123456789'",
            "API_KEY: 'abcdefghij012345678'"),
        Arguments.of(
            "Bearer Token",
            "auth_token",
            Severity.HIGH,
            "Authorization: Bearer abcdefghijklmnopqrstuv",
            "Authorization: Bearer abcdefghijklmnopqrs"),
        Arguments.of(
            "JWT",
            "auth_token",
            Severity.HIGH,
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.short"),
        Arguments.of(
            "RSA Private Key",
            "private_key",
            Severity.CRITICAL,
            "-----BEGIN RSA PRIVATE KEY-----\nMIIE",
            "-----BEGIN RSA PUBLIC KEY-----\nMIIE"),
        Arguments.of(
            "EC Private Key",
            "private_key",
            Severity.CRITICAL,
            "-----BEGIN EC PRIVATE KEY-----",
            "-----BEGIN EC PARAMETERS-----"),
        Arguments.of(
            "OpenSSH Private Key",
            "private_key",
            Severity.CRITICAL,
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "----BEGIN OPENSSH PRIVATE KEY-----"),
        Arguments.of(
            "Generic Private Key",
            "private_key",
            Severity.CRITICAL,
            "-----BEGIN PRIVATE KEY-----",
            "-----BEGIN CERTIFICATE-----"),
        Arguments.of(
            "Password Assignment",
            "credential",
            Severity.HIGH,
            "password='hunter2hunter2'",
            "password='hunter2'"),
        Arguments.of(
            "Database Connection String",
            "connection_string",
            Severity.CRITICAL,
            "DATABASE_URL=postgres://app:s3cret@db.internal:5432/app",
            "DATABASE_URL=postgres://db"),
        Arguments.of(
            "Email Address", "pii", Severity.LOW, "mail bob@example.com", "mail bob@localhost"),
        Arguments.of("SSN", "pii", Severity.CRITICAL, "ssn 123-45-6789.", "ssn 000-45-6789."));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("samples")
  void eachRuleMatchesItsSampleAndNotTheNearMiss(
      String name, String category, Severity severity, String positive, String negative) {
    List<Finding> found =
        scanner.scan(positive).stream()
            .filter(f -> f.message().equals(name + " detected"))
            .collect(Collectors.toList());
    assertThat(found).as(positive).hasSize(1);
    assertThat(found.get(0).category()).isEqualTo(category);
    assertThat(found.get(0).severity()).isEqualTo(severity);
    assertThat(found.get(0).scanner()).isEqualTo("secrets");
    assertThat(names(negative)).as(negative).doesNotContain(name + " detected");
  }

  @Test
  void rulesAreTheRustTableInOrder() {
    assertThat(SecretsScanner.rules()).hasSize(19);
    assertThat(SecretsScanner.rules().subList(0, 17))
        .extracting(SecretsScanner.Rule::name)
        .containsExactly(
            "AWS Access Key",
            "AWS Secret Key",
            "GCP API Key",
            "GitHub Token",
            "Stripe Secret Key",
            "Slack Token",
            "Generic API Key",
            "Bearer Token",
            "JWT",
            "RSA Private Key",
            "EC Private Key",
            "OpenSSH Private Key",
            "Generic Private Key",
            "Password Assignment",
            "Database Connection String",
            "Email Address",
            "SSN");
  }

  @Test
  void everyMatchIsReportedNotTheFirstPerPattern() {
    List<Finding> f = scanner.scan("AKIAIOSFODNN7EXAMPLE and AKIAI44QH8DHBEXAMPLE, a@b.io c@d.io");
    assertThat(f)
        .extracting(Finding::message)
        .containsExactly(
            "AWS Access Key detected",
            "AWS Access Key detected",
            "Email Address detected",
            "Email Address detected");
    assertThat(f).extracting(Finding::offset).containsExactly(0L, 25L, 47L, 54L);
  }

  @Test
  void ssnShapedNumbersThatCannotBeSsnsAreNotReported() {
    for (String notSsn :
        new String[] {
          "000-12-3456", "666-12-3456", "900-12-3456", "999-99-9999", "123-00-4567",
          "123-45-0000", "1-123-45-6789", "123-45-6789-1", "v1.123-45-6789", "123-45-6789.2"
        }) {
      assertThat(names("id " + notSsn + " end")).as(notSsn).doesNotContain("SSN detected");
    }
    for (String ssn :
        new String[] {"123-45-6789", "078-05-1120", "899-99-9999", "SSN:001-01-0001"}) {
      assertThat(names("id " + ssn + " end")).as(ssn).contains("SSN detected");
    }
  }

  @Test
  void entropyRuleFlagsRandomTokensOnly() {
    String random = "Zk3pQ9xV7mW2rT8yB4nL6cH1jF5dS0gA"; // 32 distinct symbols: 5 bits
    assertThat(scanner.scan("token " + random + " end"))
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.category()).isEqualTo("high_entropy");
              assertThat(f.severity()).isEqualTo(Severity.LOW);
              assertThat(f.offset()).isEqualTo(6);
            });
    // Low entropy, too short, hex (4 bits at most), or a UUID: nothing.
    assertThat(scanner.scan("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")).isEmpty();
    assertThat(scanner.scan("Zk3pQ9xV7mW2rT8yB4nL6c")).isEmpty();
    assertThat(scanner.scan("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"))
        .isEmpty();
    assertThat(scanner.scan("123e4567-e89b-12d3-a456-426614174000")).isEmpty();
    assertThat(scanner.scan("the_quick_brown_fox_jumps_over_the_lazy_dog")).isEmpty();
  }

  @Test
  void entropyTokensInsideANamedMatchAreNotReportedTwice() {
    List<Finding> f = scanner.scan("ghp_Zk3pQ9xV7mW2rT8yB4nL6cH1jF5dS0gAaBbCc");
    assertThat(f).extracting(Finding::category).containsExactly("api_token");
  }

  @Test
  void evidenceIsMaskedAndUtf8Safe() {
    Finding aws = scanner.scan("AKIAIOSFODNN7EXAMPLE").get(0);
    assertThat(aws.evidence()).isEqualTo("AKIA****MPLE");
    Finding ssn = scanner.scan("123-45-6789").get(0);
    assertThat(ssn.evidence()).isEqualTo("12****89");
    // The Rust crate panicked here (byte slice inside a multi-byte character).
    Finding pwd = scanner.scan("pwd='éééééééééééééééééééééé€'").get(0);
    assertThat(pwd.evidence()).isEqualTo("pwd=****éé€'");
    // Control and bidi characters cannot reach a terminal or a log through evidence.
    Finding ctl = scanner.scan("password=\"\u001b[2J\u202eabcdefgh\u0007\"").get(0);
    assertThat(ctl.evidence()).doesNotContain("\u001b", "\u202e", "\u0007").contains("****");
  }

  @Test
  void invalidUtf8IsScannedAndRedactedWithoutChangingOtherBytes() {
    byte[] out = {(byte) 0xff, (byte) 0xc3, ' '};
    byte[] key = "AKIAIOSFODNN7EXAMPLE".getBytes(StandardCharsets.US_ASCII);
    byte[] data = new byte[out.length + key.length + 1];
    System.arraycopy(out, 0, data, 0, out.length);
    System.arraycopy(key, 0, data, out.length, key.length);
    data[data.length - 1] = (byte) 0x80;
    byte[] red = scanner.redact(data);
    byte[] label = "[REDACTED:cloud_credential]".getBytes(StandardCharsets.US_ASCII);
    assertThat(red).startsWith(out).endsWith(label[label.length - 1], (byte) 0x80);
    assertThat(red).hasSize(out.length + label.length + 1);
  }

  @Test
  void redactionLabelsEveryMatchByCategory() {
    String text = "AKIAIOSFODNN7EXAMPLE then ghp_16C7e42F292c6912E7710c838347Ae178B4a and x@y.io";
    assertThat(scanner.redact(text))
        .isEqualTo("[REDACTED:cloud_credential] then [REDACTED:api_token] and [REDACTED:pii]");
  }

  @Test
  void overlappingMatchesAreRedactedAsTheirUnionLabelledByTheEarliestLongest() {
    // The database URL contains an email address; the email starts later: one redaction.
    assertThat(scanner.redact("url=postgres://bob:pw@host.example.com/db tail"))
        .isEqualTo("url=[REDACTED:connection_string] tail");
    // The password match starts first, the AWS secret key starts inside it and runs past its
    // end: the union goes, labelled by the earlier match. The Rust crate skipped the second match
    // and left the 40-character key visible here.
    String text = "password='aws secret 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' tail";
    assertThat(scanner.scan(text))
        .extracting(Finding::category)
        .containsExactly("credential", "cloud_credential");
    assertThat(scanner.redact(text)).isEqualTo("[REDACTED:credential] tail");
    // Same start: the longer match labels the redaction.
    assertThat(scanner.redact("xoxb-aaaaaaaaaa.b@example.com!")).isEqualTo("[REDACTED:pii]!");
  }

  @Test
  void redactingCleanTextReturnsItUnchanged() {
    String clean = "hello world\nstatus: ok\n";
    assertThat(scanner.redact(clean)).isSameAs(clean);
    assertThat(scanner.scan(clean)).isEmpty();
  }

  // ---- known (injected) secrets ----

  private static final String SECRET = "s3cr3t-V4lue/with+special?chars";

  private static SecretsScanner withSecret(String name, String value) {
    return SecretsScanner.builder().secret(name, value.getBytes(StandardCharsets.UTF_8)).build();
  }

  private static List<Finding> injected(SecretsScanner s, String text) {
    return s.scan(text).stream()
        .filter(f -> f.category().equals(SecretsScanner.INJECTED_SECRET))
        .collect(Collectors.toList());
  }

  @Test
  void aKnownSecretIsFoundInEveryEncodingItCommonlyTakes() {
    byte[] v = SECRET.getBytes(StandardCharsets.UTF_8);
    Map<String, String> encodings =
        Map.ofEntries(
            Map.entry("raw", SECRET),
            Map.entry("hex", HexFormat.of().formatHex(v)),
            Map.entry("HEX", HexFormat.of().withUpperCase().formatHex(v)),
            Map.entry("base64", Base64.getEncoder().encodeToString(v)),
            Map.entry("base64url", Base64.getUrlEncoder().encodeToString(v)),
            Map.entry("base64 no padding", Base64.getEncoder().withoutPadding().encodeToString(v)),
            Map.entry("form-encoded", URLEncoder.encode(SECRET, StandardCharsets.UTF_8)),
            Map.entry("percent lower", SECRET.replace("/", "%2f").replace("?", "%3f")),
            Map.entry("json in env dump", "{\"TOKEN\":\"" + SECRET + "\"}"));
    try (SecretsScanner s = withSecret("api_token", SECRET)) {
      encodings.forEach(
          (how, text) ->
              assertThat(injected(s, "prefix " + text + " suffix"))
                  .as(how)
                  .singleElement()
                  .satisfies(
                      f -> {
                        assertThat(f.severity()).isEqualTo(Severity.CRITICAL);
                        assertThat(f.message()).startsWith("Injected secret api_token detected");
                        assertThat(f.evidence()).isEqualTo("[secret api_token]");
                      }));
    }
  }

  @Test
  void aKnownSecretIsFoundInsideLongerBase64AtEachAlignment() {
    byte[] v = SECRET.getBytes(StandardCharsets.UTF_8);
    try (SecretsScanner s = withSecret("k", SECRET)) {
      for (int pad = 0; pad < 6; pad++) {
        byte[] wrapped = new byte[pad + v.length + 7];
        for (int i = 0; i < wrapped.length; i++) {
          wrapped[i] = (byte) ('a' + i % 26);
        }
        System.arraycopy(v, 0, wrapped, pad, v.length);
        for (Base64.Encoder enc : List.of(Base64.getEncoder(), Base64.getUrlEncoder())) {
          String text = enc.encodeToString(wrapped);
          assertThat(injected(s, text)).as("offset " + pad + ": " + text).hasSize(1);
          assertThat(s.redact(text)).contains("[REDACTED:injected_secret]");
        }
      }
    }
  }

  @Test
  void aSecretWithASpaceIsFoundWhenFormEncodedAndATrimmedValueToo() {
    try (SecretsScanner s = withSecret("phrase", "  correct horse battery\n")) {
      assertThat(injected(s, "q=correct+horse+battery&x=1")).hasSize(1);
      assertThat(injected(s, "echo: correct horse battery.")).hasSize(1);
      assertThat(injected(s, "correct%20horse%20battery")).hasSize(1);
    }
  }

  @Test
  void aSecretCutOffAtTheEndOfTheOutputIsStillCaught() {
    try (SecretsScanner s = withSecret("k", SECRET)) {
      String cut = "padding... " + SECRET.substring(0, 12);
      assertThat(injected(s, cut))
          .singleElement()
          .satisfies(f -> assertThat(f.message()).contains("prefix at end of output"));
      assertThat(s.redact(cut)).isEqualTo("padding... [REDACTED:injected_secret]");
      // Fewer than 8 bytes of it at the end is ordinary text.
      assertThat(injected(s, "padding " + SECRET.substring(0, 7))).isEmpty();
    }
  }

  @Test
  void everyOccurrenceIsFoundAndRedactedWithNothingOfTheSecretLeft() {
    try (SecretsScanner s = withSecret("k", SECRET)) {
      String text = SECRET + SECRET + " and " + SECRET;
      assertThat(injected(s, text)).hasSize(3);
      String red = s.redact(text);
      assertThat(red)
          .isEqualTo(
              "[REDACTED:injected_secret][REDACTED:injected_secret] and"
                  + " [REDACTED:injected_secret]");
    }
  }

  @Test
  void aPatternFindingOnAKnownSecretShowsNoneOfIt() {
    String key = "AKIAIOSFODNN7EXAMPLE";
    try (SecretsScanner s = withSecret("aws", key)) {
      List<Finding> f = s.scan("export AWS_ACCESS_KEY_ID=" + key);
      assertThat(f).extracting(Finding::category).contains("cloud_credential", "injected_secret");
      assertThat(f).allSatisfy(x -> assertThat(x.evidence()).doesNotContain("AKIA", "MPLE"));
    }
  }

  @Test
  void secretsShorterThanFourBytesAreNotMatched() {
    try (SecretsScanner s = withSecret("pin", "123")) {
      assertThat(injected(s, "123 1234 123")).isEmpty();
    }
  }

  @Test
  void closeForgetsTheSecretsAndToStringNamesOnly() {
    SecretsScanner s = withSecret("db_password", SECRET);
    assertThat(s.toString()).contains("db_password").doesNotContain(SECRET);
    s.close();
    assertThat(injected(s, SECRET)).isEmpty();
  }

  @Test
  void addingASecretTwiceIsAnError() {
    SecretsScanner.Builder b = SecretsScanner.builder().secret("a", new byte[] {1, 2, 3, 4});
    assertThatThrownBy(() -> b.secret("a", new byte[] {5, 6, 7, 8}))
        .hasMessageContaining("secret a was already added");
  }

  /**
   * Hostile output shaped to make naive matchers quadratic. These finish in milliseconds; the
   * timeout only guards against a regression to super-linear time (minutes at this size).
   */
  @Test
  @Timeout(30)
  void hostileOutputIsScannedInLinearTime() {
    int size = 2 << 20;
    String[] units = {
      "aws",
      "'",
      "\"",
      "@",
      "a@",
      "ghp_",
      "eyJ",
      "eyJa.",
      "xoxb-",
      "-",
      "pwd='",
      "api_key='",
      "Bearer ",
      "postgres://",
      "123-",
      "AKIA",
      "sk_live_",
      "A",
      "-----BEGIN "
    };
    try (SecretsScanner s = withSecret("k", "aaaaaaaaab")) {
      for (String unit : units) {
        String text = unit.repeat(size / unit.length());
        s.scan(text.getBytes(StandardCharsets.US_ASCII), "stdout");
      }
      s.scan("a".repeat(size).getBytes(StandardCharsets.US_ASCII), "stdout");
    }
  }
}
