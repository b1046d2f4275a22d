package dev.kavach.egress;

import dev.kavach.policy.NetworkPolicy;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The network policy compiled for the proxy. A destination is allowed when every rule allows it:
 *
 * <ol>
 *   <li>no {@code denied_hosts} entry matches it (the deny list wins over everything);
 *   <li>it is not a metadata-service name, unless an exact {@code allowed_hosts} entry names it;
 *   <li>an {@code allowed_hosts} entry matches the host, and that entry's port if it has one (an
 *       empty list allows every host);
 *   <li>the port is in {@code allowed_ports} (an empty list allows every port);
 *   <li>after one resolution, at least one address is not refused: loopback, private, link-local,
 *       metadata and the like are refused unless {@link EgressOptions#allowedAddresses()} or an IP
 *       literal in {@code allowed_hosts} allows them. The proxy connects only to such an address.
 * </ol>
 */
final class Rules {
  private static final Pattern NAME =
      Pattern.compile("[a-z0-9_]([a-z0-9_-]{0,62})(\\.[a-z0-9_]([a-z0-9_-]{0,62}))*");

  private final List<HostPattern> allowed;
  private final List<HostPattern> denied;
  private final List<Integer> ports;
  private final List<Addresses.Cidr> allowedAddresses;
  private final List<InetAddress> ownAddresses;

  Rules(NetworkPolicy policy, List<String> allowedAddresses, List<InetAddress> ownAddresses) {
    this.allowed = policy.allowedHosts().stream().map(HostPattern::parse).toList();
    this.denied = policy.deniedHosts().stream().map(HostPattern::parse).toList();
    this.ports = policy.allowedPorts();
    List<Addresses.Cidr> blocks = new ArrayList<>(Addresses.parseAll(allowedAddresses));
    // An IP literal in allowed_hosts is an explicit choice of that address.
    for (HostPattern p : allowed) {
      if (!p.wildcard() && Addresses.literal(p.name()) != null) {
        blocks.add(Addresses.Cidr.parse(p.name()));
      }
    }
    this.allowedAddresses = List.copyOf(blocks);
    this.ownAddresses = List.copyOf(ownAddresses);
  }

  /**
   * The host as the rules compare it: lower case, no trailing dot, IPv6 literals without brackets.
   *
   * @throws Denied (400) if it is not a syntactically valid host name or IP literal
   */
  static String normalizeHost(String raw) throws Denied {
    String h = raw.toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      String inner = h.substring(1, h.length() - 1);
      if (Addresses.literal(inner) == null) {
        throw Denied.badRequest("\"" + raw + "\" is not a valid IPv6 address");
      }
      return inner;
    }
    // "evil.com." and "evil.com" are the same name to DNS; they must be the same to the rules.
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    if (h.isEmpty() || h.length() > 253 || !NAME.matcher(h).matches()) {
      throw Denied.badRequest(
          "\""
              + raw
              + "\" is not a valid host name (ASCII letters, digits, '-', '.'; use punycode)");
    }
    return h;
  }

  /**
   * Checks the name and port against the lists, before any resolution.
   *
   * @return the rule that allowed it, for the audit record
   * @throws Denied (403) naming the rule that refused it
   */
  String checkName(String host, int port) throws Denied {
    for (HostPattern d : denied) {
      if (d.matches(host, port)) {
        throw Denied.forbidden(
            "denied_hosts",
            "host " + hostPort(host, port) + " matches denied_hosts entry " + d.text());
      }
    }
    String rule;
    if (allowed.isEmpty()) {
      if (Addresses.METADATA_NAMES.contains(host)) {
        throw metadataName(host);
      }
      rule = "any";
    } else {
      List<HostPattern> byHost = allowed.stream().filter(p -> p.matchesHost(host)).toList();
      if (byHost.isEmpty()) {
        throw Denied.forbidden(
            "allowed_hosts", "host " + host + " is not in allowed_hosts " + texts(allowed));
      }
      if (Addresses.METADATA_NAMES.contains(host)
          && byHost.stream().noneMatch(p -> !p.wildcard())) {
        throw metadataName(host);
      }
      Optional<HostPattern> match = byHost.stream().filter(p -> p.matches(host, port)).findFirst();
      if (match.isEmpty()) {
        throw Denied.forbidden(
            "allowed_hosts",
            "port "
                + port
                + " of "
                + host
                + " is not allowed: allowed_hosts has only "
                + texts(byHost));
      }
      rule = "allowed_hosts entry " + match.get().text();
    }
    if (!ports.isEmpty() && !ports.contains(port)) {
      throw Denied.forbidden("allowed_ports", "port " + port + " is not in allowed_ports " + ports);
    }
    return rule;
  }

  private static Denied metadataName(String host) {
    return Denied.forbidden(
        "address",
        "host "
            + host
            + " is a cloud metadata service name; only an exact allowed_hosts entry allows it");
  }

  /**
   * Resolves the host once and keeps the addresses the proxy may connect to.
   *
   * @throws Denied (403) if every address is refused, (502) if the name does not resolve
   */
  List<InetAddress> resolve(String host, Resolver resolver) throws Denied {
    List<InetAddress> all;
    byte[] literal = Addresses.literal(host);
    try {
      all =
          literal != null
              ? List.of(InetAddress.getByAddress(literal))
              : List.copyOf(resolver.resolve(host));
    } catch (UnknownHostException e) {
      throw Denied.badGateway("host " + host + " does not resolve");
    } catch (RuntimeException e) {
      throw Denied.badGateway("host " + host + " could not be resolved: " + e.getMessage());
    }
    if (all.isEmpty()) {
      throw Denied.badGateway("host " + host + " does not resolve");
    }
    List<InetAddress> ok = new ArrayList<>();
    List<String> refused = new ArrayList<>();
    for (InetAddress a : all) {
      Optional<String> why = refusal(a);
      if (why.isEmpty()) {
        ok.add(a);
      } else {
        refused.add(Addresses.text(a) + " (" + why.get() + ")");
      }
    }
    if (ok.isEmpty()) {
      throw Denied.forbidden(
          "address",
          "host "
              + host
              + " resolves only to refused addresses: "
              + String.join(", ", refused)
              + "; such addresses are reachable only when explicitly allowed");
    }
    return List.copyOf(ok);
  }

  /** Why the proxy must not connect to this address, or empty when it may. */
  Optional<String> refusal(InetAddress a) {
    if (Addresses.inAny(allowedAddresses, a)) {
      return Optional.empty();
    }
    Optional<String> cls = Addresses.refusedClass(a);
    if (cls.isPresent()) {
      return cls;
    }
    byte[] b = a.getAddress();
    byte[] embedded = Addresses.embeddedV4(b);
    for (InetAddress own : ownAddresses) {
      byte[] o = own.getAddress();
      if (java.util.Arrays.equals(o, b)
          || (embedded != null && java.util.Arrays.equals(o, embedded))) {
        return Optional.of("an address of this host");
      }
    }
    return Optional.empty();
  }

  /** The allowlist as written, for reports. */
  List<String> allowedHosts() {
    return texts(allowed);
  }

  private static List<String> texts(List<HostPattern> patterns) {
    return patterns.stream().map(HostPattern::text).collect(Collectors.toList());
  }

  static String hostPort(String host, int port) {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
