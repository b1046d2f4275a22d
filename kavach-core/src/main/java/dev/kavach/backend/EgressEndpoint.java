package dev.kavach.backend;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The egress proxy of a sandbox, as a backend must wire it: the command's network namespace has
 * only loopback, and a relay inside it listens on {@code 127.0.0.1:relayPort} and forwards every
 * connection to the proxy's Unix socket. The command's environment already names the relay ({@code
 * HTTP_PROXY} and friends). A backend that advertises {@link Capability#NETWORK_HOST_RULES}
 * receives this with every exec of such a sandbox and must either route the command's network
 * through it or fail the exec.
 *
 * @param socket the proxy's Unix domain socket on the host
 * @param relayPort the loopback port the relay listens on inside the sandbox
 * @param report what the proxy enforces, for the backend to copy into its {@link Enforcement} once
 *     the relay is up
 */
public record EgressEndpoint(Path socket, int relayPort, Enforcement.Egress report) {

  /** Validates the port. */
  public EgressEndpoint {
    Objects.requireNonNull(socket, "socket");
    Objects.requireNonNull(report, "report");
    if (relayPort < 1 || relayPort > 65535) {
      throw new IllegalArgumentException("relay port (" + relayPort + ") must be in 1..65535");
    }
  }
}
