package dev.kavach;

import dev.kavach.KavachException.Reason;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Capability;
import dev.kavach.backend.EgressEndpoint;
import dev.kavach.backend.Enforcement;
import dev.kavach.backend.SecretFile;
import dev.kavach.credential.Injection;
import dev.kavach.credential.SecretRef;
import dev.kavach.egress.EgressDecision;
import dev.kavach.egress.EgressProxy;
import dev.kavach.egress.MaskedSecret;
import dev.kavach.policy.NetworkPolicy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.jspecify.annotations.Nullable;

/**
 * The egress proxy of one {@link Sandbox}: decided at create, started at start, stopped at destroy.
 * The sandbox's commands reach the network only through it (the backend puts them in a
 * loopback-only network namespace with a relay to the proxy's socket), see placeholders instead of
 * masked secrets, and trust a CA bundle that includes the proxy's own CA when it intercepts TLS.
 *
 * <p>Kept out of {@code Sandbox} so that the lifecycle class only calls four methods.
 */
final class SandboxEgress {
  /** Where the relay listens inside the sandbox. Any port works: the network namespace is new. */
  static final int RELAY_PORT = 3128;

  /** Where the CA bundle appears inside the sandbox (memory-backed, outside system binds). */
  static final String CA_BUNDLE_PATH = "/run/kavach/egress-ca.pem";

  /** Variables the common TLS stacks read a CA bundle from. */
  static final List<String> CA_VARIABLES =
      List.of(
          "SSL_CERT_FILE", // OpenSSL, Python ssl, Ruby, Go (with SSL_CERT_DIR unset)
          "REQUESTS_CA_BUNDLE", // Python requests
          "CURL_CA_BUNDLE", // curl, pycurl
          "NODE_EXTRA_CA_CERTS", // Node.js (added to its built-in roots)
          "GIT_SSL_CAINFO", // git over https
          "PIP_CERT", // pip
          "AWS_CA_BUNDLE", // AWS CLI and SDKs
          "CARGO_HTTP_CAINFO", // cargo
          "DENO_CERT"); // deno

  // Host CA bundles, first found wins (Debian/Ubuntu/Alpine, Fedora/RHEL, openSUSE, others).
  private static final List<String> HOST_BUNDLES =
      List.of(
          "/etc/ssl/certs/ca-certificates.crt",
          "/etc/pki/tls/certs/ca-bundle.crt",
          "/etc/ssl/ca-bundle.pem",
          "/etc/ssl/cert.pem");

  private final String sandboxId;
  private final SandboxConfig config;
  private final List<MaskedSecret> masked;
  private final Map<String, String> placeholders;
  private @Nullable EgressProxy proxy;
  private byte @Nullable [] caBundle;

  private SandboxEgress(
      String sandboxId,
      SandboxConfig config,
      List<MaskedSecret> masked,
      Map<String, String> placeholders) {
    this.sandboxId = sandboxId;
    this.config = config;
    this.masked = masked;
    this.placeholders = placeholders;
  }

  /**
   * The egress plan of a sandbox, or null when it needs no proxy: the policy names no hosts and no
   * secret is masked, or the backend cannot route through a proxy and the policy is best-effort
   * (then the backend's report says what it did instead).
   *
   * @throws KavachException with {@link Reason#POLICY_INVALID} if a secret is bound to hosts but
   *     the policy has no {@code allowed_hosts} for the proxy to enforce
   */
  static @Nullable SandboxEgress plan(
      String sandboxId, SandboxConfig config, BackendProvider provider, SecureRandom random) {
    NetworkPolicy net = config.policy().network();
    boolean hostRules = !net.allowedHosts().isEmpty() || !net.deniedHosts().isEmpty();
    List<MaskedSecret> masked = new ArrayList<>();
    Map<String, String> placeholders = new LinkedHashMap<>();
    for (SecretRef ref : config.secrets()) {
      if (ref.injection() instanceof Injection.Proxy p) {
        if (net.allowedHosts().isEmpty()) {
          throw new KavachException(
              Reason.POLICY_INVALID,
              "secret "
                  + ref.name()
                  + " is bound to "
                  + p.hosts()
                  + " through the egress proxy, which needs network.allowed_hosts (for example"
                  + " --allow-host "
                  + p.hosts().get(0)
                  + ")");
        }
        String placeholder = MaskedSecret.newPlaceholder(random);
        masked.add(new MaskedSecret(ref.name(), placeholder, p.hosts()));
        placeholders.put(ref.name(), placeholder);
      }
    }
    if (!hostRules && masked.isEmpty()) {
      return null;
    }
    if (!provider.capabilities().contains(Capability.NETWORK_HOST_RULES)) {
      // Backends.select already refused this unless the policy is best-effort.
      return null;
    }
    return new SandboxEgress(sandboxId, config, List.copyOf(masked), Map.copyOf(placeholders));
  }

  /** Starts the proxy; decisions go to {@code listener}. */
  void start(Consumer<EgressDecision> listener) {
    EgressProxy.Builder b =
        EgressProxy.builder(config.policy().network())
            .label(sandboxId)
            .options(config.egress())
            .listener(listener)
            .clock(config.clock());
    masked.forEach(b::secret);
    if (!masked.isEmpty() && config.credentials() != null) {
      b.credentials(config.credentials());
    }
    EgressProxy p = b.start();
    try {
      if (p.caCertificatePem().isPresent()) {
        caBundle = caBundle(p.caCertificatePem().get());
      }
    } catch (RuntimeException e) {
      p.close();
      throw e;
    }
    proxy = p;
  }

  /** The placeholder the command sees for a masked secret. */
  String placeholder(String secretName) {
    String p = placeholders.get(secretName);
    if (p == null) {
      throw new IllegalStateException("secret " + secretName + " is not masked");
    }
    return p;
  }

  /**
   * Adds the proxy variables (both cases: curl reads only the lower-case {@code http_proxy}) and,
   * when TLS is intercepted, the CA bundle variables. They are added last and win over the
   * configuration's: the sandbox has no other way out, so other values could only break clients.
   */
  void addEnvironment(Map<String, String> env) {
    String url = "http://127.0.0.1:" + RELAY_PORT;
    for (String name : List.of("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")) {
      env.put(name, url);
      env.put(name.toLowerCase(java.util.Locale.ROOT), url);
    }
    String noProxy = "localhost,127.0.0.1,::1";
    env.put("NO_PROXY", noProxy);
    env.put("no_proxy", noProxy);
    if (caBundle != null) {
      for (String name : CA_VARIABLES) {
        env.put(name, CA_BUNDLE_PATH);
      }
    }
  }

  /** The CA bundle file, when TLS is intercepted (a fresh copy per exec: backends may wipe it). */
  List<SecretFile> files() {
    byte[] bundle = caBundle;
    if (bundle == null) {
      return List.of();
    }
    return List.of(new SecretFile(CA_BUNDLE_PATH, 0444, bundle.clone()));
  }

  /** What the backend must wire. */
  EgressEndpoint endpoint() {
    EgressProxy p = proxy;
    if (p == null) {
      throw new IllegalStateException("egress proxy of " + sandboxId + " is not started");
    }
    NetworkPolicy net = config.policy().network();
    List<String> secrets = new ArrayList<>();
    masked.forEach(m -> secrets.add(m.name() + " -> " + m.hosts()));
    return new EgressEndpoint(
        p.socket(),
        RELAY_PORT,
        new Enforcement.Egress(net.allowedHosts(), net.allowedPorts(), net.deniedHosts(), secrets));
  }

  /** Stops the proxy; idempotent. */
  void close() {
    EgressProxy p = proxy;
    proxy = null;
    if (p != null) {
      p.close();
    }
  }

  /**
   * The host's CA bundle followed by the proxy's CA: {@code SSL_CERT_FILE} and friends replace a
   * client's default roots, so the bundle must keep every public root for the hosts that are
   * tunnelled, not intercepted.
   */
  private static byte[] caBundle(String proxyCaPem) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] host = hostBundle();
    out.writeBytes(host);
    if (host.length > 0 && host[host.length - 1] != '\n') {
      out.write('\n');
    }
    out.writeBytes(proxyCaPem.getBytes(StandardCharsets.US_ASCII));
    return out.toByteArray();
  }

  private static byte[] hostBundle() {
    for (String candidate : HOST_BUNDLES) {
      Path p = Path.of(candidate);
      if (Files.isReadable(p)) {
        try {
          return Files.readAllBytes(p);
        } catch (IOException e) {
          // Try the next one.
        }
      }
    }
    return jdkRoots();
  }

  // No bundle file on this host: export the JDK's trusted roots instead.
  private static byte[] jdkRoots() {
    try {
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init((KeyStore) null);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      Base64.Encoder b64 = Base64.getMimeEncoder(64, new byte[] {'\n'});
      for (var tm : tmf.getTrustManagers()) {
        if (tm instanceof X509TrustManager x) {
          for (X509Certificate c : x.getAcceptedIssuers()) {
            out.writeBytes(
                ("-----BEGIN CERTIFICATE-----\n"
                        + b64.encodeToString(c.getEncoded())
                        + "\n-----END CERTIFICATE-----\n")
                    .getBytes(StandardCharsets.US_ASCII));
          }
        }
      }
      return out.toByteArray();
    } catch (GeneralSecurityException e) {
      throw new KavachException(Reason.IO, "cannot read the JDK's trusted CAs: " + e, e);
    }
  }
}
