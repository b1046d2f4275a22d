package dev.kavach.policy;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Network access of a sandbox.
 *
 * <p>{@code enabled == false} (the default) means an isolated network with only loopback. When
 * enabled, {@code allowedPorts} restricts outgoing TCP connections and binds to those ports, and
 * {@code allowedHosts} restricts destinations by name (enforced by an egress proxy); empty lists
 * mean no restriction of that kind. {@code deniedHosts} wins over {@code allowedHosts}.
 *
 * @param enabled whether the sandbox may use the network beyond loopback
 * @param allowedHosts host names ({@code api.github.com}, {@code *.pypi.org}), each optionally with
 *     {@code :port}
 * @param allowedPorts TCP ports, 1 to 65535
 * @param deniedHosts host patterns that are refused even when allowed
 */
public record NetworkPolicy(
    boolean enabled,
    List<String> allowedHosts,
    List<Integer> allowedPorts,
    List<String> deniedHosts) {

  // A DNS name (labels of letters, digits, hyphens), optionally with a leading "*." wildcard,
  // or an IPv4 literal, optionally followed by :port.
  private static final Pattern HOST =
      Pattern.compile(
          "(\\*\\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
              + "(:[0-9]{1,5})?");

  /** Copies the lists and validates every entry. */
  public NetworkPolicy {
    allowedHosts = List.copyOf(allowedHosts);
    allowedPorts = List.copyOf(allowedPorts);
    deniedHosts = List.copyOf(deniedHosts);
    for (int i = 0; i < allowedHosts.size(); i++) {
      checkHost("allowed_hosts[" + i + "]", allowedHosts.get(i));
    }
    for (int i = 0; i < deniedHosts.size(); i++) {
      checkHost("denied_hosts[" + i + "]", deniedHosts.get(i));
    }
    for (int i = 0; i < allowedPorts.size(); i++) {
      int port = allowedPorts.get(i);
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException(
            "allowed_ports[" + i + "] (" + port + ") must be between 1 and 65535");
      }
    }
    if (!enabled && !(allowedHosts.isEmpty() && allowedPorts.isEmpty())) {
      throw new IllegalArgumentException(
          "allowed_hosts and allowed_ports need enabled: true (a disabled network allows nothing)");
    }
  }

  /** No network beyond loopback: the default. */
  public static NetworkPolicy disabled() {
    return new NetworkPolicy(false, List.of(), List.of(), List.of());
  }

  /** Unrestricted network access (the host's network). */
  public static NetworkPolicy unrestricted() {
    return new NetworkPolicy(true, List.of(), List.of(), List.of());
  }

  /** Network access restricted to the given TCP ports. */
  public static NetworkPolicy ports(Integer... ports) {
    return new NetworkPolicy(true, List.of(), List.of(ports), List.of());
  }

  /** Whether the sandbox is cut off from every network but its own loopback. */
  public boolean isolated() {
    return !enabled;
  }

  /**
   * Checks one host pattern ({@code api.example.com}, {@code *.example.com}, optionally {@code
   * :port}), naming {@code field} in the error.
   *
   * @throws IllegalArgumentException if it is not one
   */
  public static void checkHost(String field, String host) {
    String lower = host.toLowerCase(Locale.ROOT);
    if (!lower.equals(host) || !HOST.matcher(host).matches()) {
      throw new IllegalArgumentException(
          field
              + " (\""
              + host
              + "\") must be a lower-case host name such as api.example.com or"
              + " *.example.com, optionally with :port");
    }
    int colon = host.indexOf(':');
    if (colon >= 0) {
      int port = Integer.parseInt(host.substring(colon + 1));
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException(
            field + " (\"" + host + "\") has a port outside 1..65535");
      }
    }
  }
}
