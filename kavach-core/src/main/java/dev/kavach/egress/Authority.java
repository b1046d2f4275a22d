package dev.kavach.egress;

/**
 * A destination as a request names it: host (normalised) and port.
 *
 * @param host lower-case name without trailing dot, or an IP literal without brackets
 * @param port 1 to 65535
 */
record Authority(String host, int port) {

  /**
   * Parses {@code host[:port]} or {@code [v6]:port}.
   *
   * @param defaultPort the port when none is written, or -1 when a port is required
   * @throws Denied (400) for user info, a bad port or a bad host
   */
  static Authority parse(String text, int defaultPort) throws Denied {
    if (text.indexOf('@') >= 0) {
      throw Denied.badRequest("user info in \"" + HttpHead.clip(text) + "\" is not allowed");
    }
    String hostPart;
    String portPart = null;
    if (text.startsWith("[")) {
      int close = text.indexOf(']');
      if (close < 0) {
        throw Denied.badRequest("unterminated IPv6 literal in \"" + HttpHead.clip(text) + "\"");
      }
      hostPart = text.substring(0, close + 1);
      String rest = text.substring(close + 1);
      if (!rest.isEmpty()) {
        if (!rest.startsWith(":")) {
          throw Denied.badRequest("malformed authority \"" + HttpHead.clip(text) + "\"");
        }
        portPart = rest.substring(1);
      }
    } else {
      int colon = text.indexOf(':');
      if (colon >= 0 && text.indexOf(':', colon + 1) >= 0) {
        throw Denied.badRequest(
            "IPv6 literals must be in brackets: \"" + HttpHead.clip(text) + "\"");
      }
      hostPart = colon >= 0 ? text.substring(0, colon) : text;
      portPart = colon >= 0 ? text.substring(colon + 1) : null;
    }
    int port;
    if (portPart == null || portPart.isEmpty()) {
      if (defaultPort < 0) {
        throw Denied.badRequest("\"" + HttpHead.clip(text) + "\" must be host:port");
      }
      port = defaultPort;
    } else {
      if (portPart.length() > 5 || !portPart.chars().allMatch(c -> c >= '0' && c <= '9')) {
        throw Denied.badRequest("invalid port in \"" + HttpHead.clip(text) + "\"");
      }
      port = Integer.parseInt(portPart);
      if (port < 1 || port > 65535) {
        throw Denied.badRequest("port " + port + " is outside 1..65535");
      }
    }
    return new Authority(Rules.normalizeHost(hostPart), port);
  }

  /** The Host header value for a request with this default port. */
  String hostHeader(int defaultPort) {
    String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    return port == defaultPort ? h : h + ":" + port;
  }

  @Override
  public String toString() {
    return Rules.hostPort(host, port);
  }
}
