package dev.kavach.egress;

import dev.kavach.credential.CredentialSource;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Swaps placeholders for real secret values at the proxy. The sandbox only ever holds placeholders;
 * a real value exists in the proxy only while one request head is built, and is looked up in the
 * credential source each time (so a rotated secret takes effect on the next request).
 *
 * <p>What is covered: header field values and the request target (path and query) of plain HTTP
 * requests and of requests inside an intercepted TLS tunnel. What is not: request bodies (streamed,
 * never inspected) and opaque tunnels (the proxy cannot see inside them). A placeholder that slips
 * out that way is still only a placeholder.
 */
final class Masking {
  private final List<MaskedSecret> secrets;
  private final List<List<HostPattern>> bindings;
  private final @Nullable CredentialSource source;

  Masking(List<MaskedSecret> secrets, @Nullable CredentialSource source) {
    this.secrets = List.copyOf(secrets);
    List<List<HostPattern>> b = new ArrayList<>();
    for (MaskedSecret s : secrets) {
      b.add(s.hosts().stream().map(HostPattern::parse).toList());
    }
    this.bindings = List.copyOf(b);
    this.source = source;
    if (!secrets.isEmpty() && source == null) {
      throw new IllegalArgumentException("masked secrets need a credential source");
    }
  }

  boolean isEmpty() {
    return secrets.isEmpty();
  }

  /**
   * Whether a CONNECT to this host and port should be intercepted: some secret is bound to it. A
   * binding without a port intercepts only port 443, so other protocols to a bound host (SSH on 22,
   * say) still pass through as opaque tunnels.
   */
  boolean intercepts(String host, int port) {
    for (List<HostPattern> b : bindings) {
      for (HostPattern p : b) {
        if (p.matchesHost(host) && (p.port() == 0 ? port == 443 : p.port() == port)) {
          return true;
        }
      }
    }
    return false;
  }

  /** The names of the secrets bound to this host and port. */
  private boolean bound(int i, String host, int port) {
    for (HostPattern p : bindings.get(i)) {
      if (p.matches(host, port)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Replaces placeholders in the head's target and header values with real values, when the
   * destination is bound to the secret.
   *
   * @param target the request target; the replaced target is returned in {@code targetOut[0]}
   * @return the real values used, by secret name (the caller masks them again in the response)
   * @throws Denied (403, rule {@code secret_binding}) if a placeholder is bound to other hosts
   */
  Map<String, String> apply(HttpHead head, String target, String[] targetOut, String host, int port)
      throws Denied {
    targetOut[0] = target;
    Map<String, String> used = new LinkedHashMap<>();
    for (int i = 0; i < secrets.size(); i++) {
      MaskedSecret s = secrets.get(i);
      String ph = s.placeholder();
      boolean inTarget = target.contains(ph);
      boolean inHeaders = false;
      for (String[] f : head.fields()) {
        if (f[1].contains(ph) || f[0].contains(ph)) {
          inHeaders = true;
          break;
        }
      }
      if (!inTarget && !inHeaders) {
        continue;
      }
      if (!bound(i, host, port)) {
        throw Denied.forbidden(
            "secret_binding",
            "the request carries the placeholder of secret "
                + s.name()
                + ", which may only be sent to "
                + s.hosts()
                + ", not to "
                + Rules.hostPort(host, port));
      }
      String value = resolve(s);
      if (inTarget && !value.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
        throw Denied.badGateway(
            "secret " + s.name() + " has characters a URL cannot carry; send it in a header");
      }
      used.put(s.name(), value);
      targetOut[0] = targetOut[0].replace(ph, value);
      for (String[] f : head.fields()) {
        f[1] = f[1].replace(ph, value);
      }
    }
    return used;
  }

  /**
   * Replaces real values echoed back in response header values with their placeholders, so a
   * destination that reflects request headers does not hand the secret to the sandbox.
   */
  void mask(HttpHead response, Map<String, String> used) {
    if (used.isEmpty()) {
      return;
    }
    for (MaskedSecret s : secrets) {
      String value = used.get(s.name());
      if (value == null || value.isEmpty()) {
        continue;
      }
      for (String[] f : response.fields()) {
        f[1] = f[1].replace(value, s.placeholder());
      }
    }
  }

  private String resolve(MaskedSecret s) throws Denied {
    byte[] raw = source == null ? null : source.resolve(s.name()).orElse(null);
    if (raw == null) {
      throw Denied.badGateway("secret " + s.name() + " is not registered");
    }
    try {
      for (byte b : raw) {
        // A line break or NUL in a header value would let the value inject header fields.
        if (b == '\r' || b == '\n' || b == 0) {
          throw Denied.badGateway(
              "secret " + s.name() + " contains a line break or NUL and cannot go into a header");
        }
      }
      return new String(raw, StandardCharsets.ISO_8859_1);
    } finally {
      Arrays.fill(raw, (byte) 0);
    }
  }
}
