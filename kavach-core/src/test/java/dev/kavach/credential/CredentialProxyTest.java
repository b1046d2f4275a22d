package dev.kavach.credential;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.KavachException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CredentialProxyTest {
  private static final String VALUE = "s3cr3t-value-0f-the-proxy";

  @TempDir Path dir;

  private static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  @Test
  void valuesAreHandedOutAsCopies() {
    try (CredentialProxy p = new CredentialProxy()) {
      byte[] given = VALUE.getBytes(StandardCharsets.UTF_8);
      p.register("api", given);
      given[0] = 'X';
      byte[] first = p.resolve("api").orElseThrow();
      assertThat(text(first)).isEqualTo(VALUE);
      first[0] = 'Y';
      assertThat(text(p.resolve("api").orElseThrow())).isEqualTo(VALUE);
      assertThat(p.resolve("nope")).isEmpty();
      assertThat(p.names()).containsExactly("api");
      assertThat(p.contains("api")).isTrue();
    }
  }

  @Test
  void charsAreStoredAsUtf8AndLeftAsGiven() {
    try (CredentialProxy p = new CredentialProxy()) {
      char[] chars = "pässwörd-€".toCharArray();
      p.register("pw", chars);
      assertThat(text(p.resolve("pw").orElseThrow())).isEqualTo("pässwörd-€");
      assertThat(new String(chars)).isEqualTo("pässwörd-€");
      assertThatThrownBy(() -> p.register("bad", new char[] {'a', '\ud800'}))
          .hasMessageContaining("secret bad is not valid text");
    }
  }

  @Test
  void aHostEnvironmentVariableIsReadAndAnUnsetOneIsNamed() {
    // Surefire sets KAVACH_TEST_HOST_MARKER for every test JVM.
    try (CredentialProxy p = new CredentialProxy()) {
      p.registerFromEnv("marker", "KAVACH_TEST_HOST_MARKER");
      assertThat(text(p.resolve("marker").orElseThrow())).isEqualTo("visible-only-on-the-host");
      assertThatThrownBy(() -> p.registerFromEnv("x", "KAVACH_SURELY_UNSET_VARIABLE"))
          .isInstanceOf(KavachException.class)
          .hasMessage(
              "host environment variable KAVACH_SURELY_UNSET_VARIABLE (for secret x) is not set");
    }
  }

  @Test
  void aHostFileIsReadByteForByteAndProblemsNameTheFile() throws Exception {
    try (CredentialProxy p = new CredentialProxy()) {
      Path f = Files.writeString(dir.resolve("token"), VALUE + "\n");
      p.registerFromFile("token", f);
      assertThat(text(p.resolve("token").orElseThrow())).isEqualTo(VALUE + "\n");

      Path missing = dir.resolve("missing");
      assertThatThrownBy(() -> p.registerFromFile("m", missing))
          .hasMessageContaining("cannot read secret file " + missing + " (for secret m)");

      Path big = dir.resolve("big");
      Files.write(big, new byte[CredentialProxy.MAX_FILE_BYTES + 1]);
      assertThatThrownBy(() -> p.registerFromFile("big", big))
          .hasMessageContaining("secret file " + big + " (for secret big) is larger than 1 MiB");
      Files.write(big, new byte[CredentialProxy.MAX_FILE_BYTES]);
      p.registerFromFile("big", big);
      assertThat(p.resolve("big").orElseThrow()).hasSize(CredentialProxy.MAX_FILE_BYTES);
    }
  }

  @Test
  void namesAreValidatedAndNotReusedAndEmptyValuesRefused() {
    try (CredentialProxy p = new CredentialProxy()) {
      p.register("api", new byte[] {1});
      assertThatThrownBy(() -> p.register("api", new byte[] {2}))
          .hasMessageContaining("secret api is already registered");
      assertThatThrownBy(() -> p.register("../x", new byte[] {2}))
          .hasMessageContaining("secret name");
      assertThatThrownBy(() -> p.register("empty", new byte[0]))
          .hasMessageContaining("secret empty is empty");
      p.remove("api");
      p.register("api", new byte[] {3});
      assertThat(p.resolve("api").orElseThrow()).containsExactly(3);
    }
  }

  @Test
  void closeWipesAndLaterUseFailsNamingNothingSecret() {
    CredentialProxy p = new CredentialProxy();
    p.register("api", VALUE.getBytes(StandardCharsets.UTF_8));
    p.close();
    p.close();
    assertThat(p.toString()).isEqualTo("CredentialProxy[closed]");
    assertThatThrownBy(() -> p.resolve("api")).hasMessage("credential proxy is closed");
    assertThatThrownBy(() -> p.register("b", new byte[] {1}))
        .hasMessage("credential proxy is closed");
  }

  @Test
  void nothingItPrintsOrThrowsCarriesAValue() throws Exception {
    CredentialProxy p = new CredentialProxy();
    p.register("api", VALUE.getBytes(StandardCharsets.UTF_8));
    p.register("pw", VALUE.toCharArray().clone());
    StringBuilder everything = new StringBuilder(p.toString());
    for (Runnable r :
        new Runnable[] {
          () -> p.register("api", VALUE.getBytes(StandardCharsets.UTF_8)),
          () -> p.registerFromFile("f", dir.resolve(VALUE)),
          () -> p.register("", VALUE.getBytes(StandardCharsets.UTF_8)),
        }) {
      try {
        r.run();
      } catch (RuntimeException e) {
        everything.append(e).append(e.getCause());
      }
    }
    assertThat(p.toString()).isEqualTo("CredentialProxy[api, pw]");
    // The file name is the caller's choice; no message carries a registered value otherwise.
    assertThat(everything.toString().replace(dir.resolve(VALUE).toString(), ""))
        .doesNotContain(VALUE);
    p.close();
  }
}
