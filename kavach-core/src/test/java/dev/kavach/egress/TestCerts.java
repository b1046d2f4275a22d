package dev.kavach.egress;

import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** A test CA for local HTTPS origins, and a client context that trusts only it. */
public final class TestCerts {
  private final CertificateAuthority ca;

  private TestCerts(String label) {
    this.ca = CertificateAuthority.create(label, new SecureRandom(), Clock.systemUTC());
  }

  /** A fresh CA. */
  public static TestCerts authority(String label) {
    return new TestCerts(label);
  }

  /** A server context presenting a certificate for {@code host} issued by this CA. */
  public SSLContext server(String host) {
    return ca.serverContext(host);
  }

  /** A client context that trusts this CA and nothing else. */
  public SSLContext trustingOnlyThis() {
    return trusting(ca.certificate());
  }

  /** A client context that trusts {@code cert} and nothing else. */
  public static SSLContext trusting(X509Certificate cert) {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setCertificateEntry("ca", cert);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
      tmf.init(ks);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
