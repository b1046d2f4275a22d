package dev.kavach.egress;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateAuthorityTest {
  private final CertificateAuthority ca =
      CertificateAuthority.create("kv-test", new SecureRandom(), Clock.systemUTC());

  @Test
  void caCertificateIsASelfSignedCaWithCriticalConstraints() throws Exception {
    X509Certificate c = ca.certificate();
    c.verify(c.getPublicKey());
    c.checkValidity();
    assertThat(c.getBasicConstraints()).isEqualTo(0);
    assertThat(c.getCriticalExtensionOIDs()).contains("2.5.29.19", "2.5.29.15");
    assertThat(c.getKeyUsage()[5]).as("keyCertSign").isTrue();
    assertThat(c.getSubjectX500Principal().getName()).contains("CN=kavach sandbox CA kv-test");
  }

  @Test
  void leafIsSignedByTheCaForTheHostOnly() throws Exception {
    X509Certificate leaf = ca.issue("api.github.com");
    leaf.verify(ca.certificate().getPublicKey());
    leaf.checkValidity();
    assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
    assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(2, "api.github.com"));
    assertThat(leaf.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
    assertThat(leaf.getIssuerX500Principal()).isEqualTo(ca.certificate().getSubjectX500Principal());
  }

  @Test
  void leafForAnIpLiteralCarriesAnIpAddressName() throws Exception {
    X509Certificate leaf = ca.issue("10.1.2.3");
    assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(7, "10.1.2.3"));
  }

  @Test
  void pemIsWhatOpensslVerifiesInStrictMode(@TempDir Path dir) throws Exception {
    Path openssl = Path.of("/usr/bin/openssl");
    // .ci/run installs openssl: under CI its absence is a failure, not a skip.
    if (!"true".equals(System.getenv("CI"))) {
      org.junit.jupiter.api.Assumptions.assumeTrue(
          Files.isExecutable(openssl), "openssl is not installed; the JDK checks above still ran");
    }
    Path caPem = Files.writeString(dir.resolve("ca.pem"), ca.pem());
    Path leafPem =
        Files.writeString(
            dir.resolve("leaf.pem"), CertificateAuthority.pem(ca.issue("api.test").getEncoded()));
    Process p =
        new ProcessBuilder(
                openssl.toString(),
                "verify",
                "-x509_strict",
                "-purpose",
                "sslserver",
                "-verify_hostname",
                "api.test",
                "-CAfile",
                caPem.toString(),
                leafPem.toString())
            .redirectErrorStream(true)
            .start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(out).contains(": OK");
    assertThat(p.exitValue()).isZero();
  }
}
