package dev.kavach.egress;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * Turns a host name into addresses for the egress proxy. The proxy calls it once per connection and
 * connects only to an address it returned and checked, so a resolver that answers differently the
 * second time gains nothing.
 *
 * <p>Tests inject their own resolver to map fake names to local listeners without touching DNS:
 *
 * <pre>{@code
 * Resolver fake = Resolver.fixed(Map.of("api.example.test", "127.0.0.1"));
 * }</pre>
 */
@FunctionalInterface
public interface Resolver {

  /**
   * The addresses of {@code host}, in the order to try them.
   *
   * @param host a lower-case host name without a trailing dot, or an IP literal
   * @throws UnknownHostException if the name does not resolve
   */
  List<InetAddress> resolve(String host) throws UnknownHostException;

  /** The JVM's resolver ({@link InetAddress#getAllByName}), which uses the host's DNS setup. */
  static Resolver system() {
    return host -> List.of(InetAddress.getAllByName(host));
  }

  /**
   * A resolver with fixed answers and no DNS at all: each name maps to one IP literal; every other
   * name fails to resolve (IP literals resolve to themselves).
   */
  static Resolver fixed(java.util.Map<String, String> answers) {
    java.util.Map<String, String> copy = java.util.Map.copyOf(answers);
    return host -> {
      String literal = copy.get(host);
      byte[] bytes = Addresses.literal(literal != null ? literal : host);
      if (bytes == null) {
        throw new UnknownHostException(host + ": not in the fixed resolver");
      }
      return List.of(InetAddress.getByAddress(host, bytes));
    };
  }
}
