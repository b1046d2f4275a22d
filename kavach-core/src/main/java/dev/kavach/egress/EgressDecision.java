package dev.kavach.egress;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What the egress proxy decided about one connection or request. It becomes an audit event ({@code
 * egress.allowed} or {@code egress.denied}); it never carries a secret value.
 *
 * @param allowed whether the request went out
 * @param protocol {@code http} (plain forward), {@code connect} (HTTP CONNECT tunnel), {@code
 *     https} (a request inside an intercepted TLS tunnel) or {@code socks5}
 * @param host the destination host name as requested, normalised
 * @param port the destination port
 * @param address the address connected to (allowed) or refused, if resolution got that far
 * @param rule the policy field or check that decided: {@code allowed_hosts}, {@code denied_hosts},
 *     {@code allowed_ports}, {@code address}, {@code secret_binding}, {@code tls_sni} (a TLS server
 *     name in a tunnel that the rules refuse), {@code request}, {@code upstream}, {@code limit}, or
 *     {@code any} when nothing restricts the host
 * @param reason a sentence an agent can act on, the same as the body of a 403
 * @param secrets names of the secrets whose placeholders were replaced (allowed) or refused
 */
public record EgressDecision(
    boolean allowed,
    String protocol,
    String host,
    int port,
    @Nullable String address,
    String rule,
    String reason,
    List<String> secrets) {

  /** Copies the list. */
  public EgressDecision {
    Objects.requireNonNull(protocol, "protocol");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(rule, "rule");
    Objects.requireNonNull(reason, "reason");
    secrets = List.copyOf(secrets);
  }
}
