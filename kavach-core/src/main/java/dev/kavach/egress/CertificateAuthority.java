package dev.kavach.egress;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A certificate authority that lives for one sandbox. Its private key never leaves the JVM; its
 * certificate is trusted only inside that sandbox (through the CA bundle the sandbox's TLS clients
 * are pointed at). It issues a leaf certificate per intercepted host, on demand.
 *
 * <p>Certificates follow the profile strict verifiers expect (OpenSSL's X509_V_FLAG_X509_STRICT,
 * the default since Python 3.13): ECDSA P-256 with SHA-256, critical basicConstraints and keyUsage,
 * subject and authority key identifiers, the host in subjectAltName, extendedKeyUsage serverAuth.
 */
final class CertificateAuthority {
  private static final String EC_SHA256 = "1.2.840.10045.4.3.2";
  private static final String CN = "2.5.4.3";
  private static final String O = "2.5.4.10";

  private final SecureRandom random;
  private final Clock clock;
  private final KeyPair caKeys;
  private final byte[] caName;
  private final byte[] caKeyId;
  private final X509Certificate caCert;
  private final KeyPair leafKeys;
  private final Map<String, SSLContext> contexts = new ConcurrentHashMap<>();

  private CertificateAuthority(String label, SecureRandom random, Clock clock)
      throws GeneralSecurityException {
    this.random = random;
    this.clock = clock;
    this.caKeys = ecKeys(random);
    this.leafKeys = ecKeys(random);
    this.caName = name("kavach sandbox CA " + label);
    this.caKeyId = keyId(caKeys.getPublic());
    ZonedDateTime now = ZonedDateTime.now(clock);
    byte[] extensions =
        Der.sequence(
            extension("2.5.29.19", true, Der.sequence(Der.bool(true), Der.integer(0))),
            // keyCertSign (bit 5) and cRLSign (bit 6): 0b0000_0110, one unused bit.
            extension("2.5.29.15", true, Der.bitString(new byte[] {0x06}, 1)),
            extension("2.5.29.14", false, Der.octetString(caKeyId)));
    this.caCert =
        sign(caName, caName, caKeys.getPublic(), now.minusHours(1), now.plusDays(30), extensions);
  }

  /** A fresh authority; {@code label} goes into its name (the sandbox id). */
  static CertificateAuthority create(String label, SecureRandom random, Clock clock) {
    try {
      return new CertificateAuthority(label, random, clock);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot create the sandbox CA: " + e, e);
    }
  }

  /** The CA certificate. */
  X509Certificate certificate() {
    return caCert;
  }

  /** The CA certificate in PEM. */
  String pem() {
    try {
      return pem(caCert.getEncoded());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static String pem(byte[] der) {
    return "-----BEGIN CERTIFICATE-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END CERTIFICATE-----\n";
  }

  /** A server-side TLS context presenting a certificate for {@code host}, cached per host. */
  SSLContext serverContext(String host) {
    return contexts.computeIfAbsent(host, this::newContext);
  }

  private SSLContext newContext(String host) {
    try {
      X509Certificate leaf = issue(host);
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      char[] pass = new char[0];
      ks.setKeyEntry("leaf", leafKeys.getPrivate(), pass, new X509Certificate[] {leaf, caCert});
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, pass);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), null, random);
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot issue a certificate for " + host + ": " + e, e);
    }
  }

  /** Issues a leaf certificate for a host name or IP literal. */
  X509Certificate issue(String host) throws GeneralSecurityException {
    ZonedDateTime now = ZonedDateTime.now(clock);
    byte[] literal = Addresses.literal(host);
    byte[] san =
        literal != null
            ? Der.context(7, false, literal)
            : Der.context(2, false, host.getBytes(StandardCharsets.US_ASCII));
    byte[] extensions =
        Der.sequence(
            extension("2.5.29.19", true, Der.sequence()),
            // digitalSignature (bit 0): 0b1000_0000, seven unused bits.
            extension("2.5.29.15", true, Der.bitString(new byte[] {(byte) 0x80}, 7)),
            extension("2.5.29.37", false, Der.sequence(Der.oid("1.3.6.1.5.5.7.3.1"))),
            extension("2.5.29.17", false, Der.sequence(san)),
            extension("2.5.29.14", false, Der.octetString(keyId(leafKeys.getPublic()))),
            extension("2.5.29.35", false, Der.sequence(Der.context(0, false, caKeyId))));
    return sign(
        caName,
        name(host.length() <= 64 ? host : "kavach intercepted host"),
        leafKeys.getPublic(),
        now.minusHours(1),
        now.plusDays(7),
        extensions);
  }

  private X509Certificate sign(
      byte[] issuer,
      byte[] subject,
      PublicKey key,
      ZonedDateTime notBefore,
      ZonedDateTime notAfter,
      byte[] extensions)
      throws GeneralSecurityException {
    byte[] serial = new byte[16];
    random.nextBytes(serial);
    byte[] algorithm = Der.sequence(Der.oid(EC_SHA256));
    byte[] tbs =
        Der.sequence(
            Der.context(0, true, Der.integer(2)),
            Der.integer(new BigInteger(1, serial)),
            algorithm,
            issuer,
            Der.sequence(Der.time(notBefore), Der.time(notAfter)),
            subject,
            key.getEncoded(),
            Der.context(3, true, extensions));
    PrivateKey signer = caKeys.getPrivate();
    Signature s = Signature.getInstance("SHA256withECDSA");
    s.initSign(signer, random);
    s.update(tbs);
    byte[] cert = Der.sequence(tbs, algorithm, Der.bitString(s.sign(), 0));
    return (X509Certificate)
        CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(cert));
  }

  private static byte[] name(String commonName) {
    return Der.sequence(
        Der.set(Der.sequence(Der.oid(O), Der.utf8("kavach"))),
        Der.set(Der.sequence(Der.oid(CN), Der.utf8(commonName))));
  }

  private static byte[] extension(String oid, boolean critical, byte[] value) {
    return critical
        ? Der.sequence(Der.oid(oid), Der.bool(true), Der.octetString(value))
        : Der.sequence(Der.oid(oid), Der.octetString(value));
  }

  // RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. An identifier, not a security
  // function, so SHA-1 is what verifiers expect here.
  private static byte[] keyId(PublicKey key) throws GeneralSecurityException {
    byte[] spki = key.getEncoded();
    // For P-256 the BIT STRING of the key is the last 66 bytes (tag, length, unused-bits, point).
    byte[] bits = java.util.Arrays.copyOfRange(spki, spki.length - 65, spki.length);
    return MessageDigest.getInstance("SHA-1").digest(bits);
  }

  private static KeyPair ecKeys(SecureRandom random) throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"), random);
    return g.generateKeyPair();
  }
}
