package dev.kavach.egress;

/**
 * A request the proxy refuses. The message is the reason an agent reads, without the {@code kavach
 * egress: denied:} prefix; {@code rule} names the policy field or check that refused it.
 */
final class Denied extends Exception {
  private static final long serialVersionUID = 1L;

  /** The request was well formed and a rule refused it: HTTP 403, audited as egress.denied. */
  static final int FORBIDDEN = 403;

  /** The request was malformed or used something the proxy does not speak: HTTP 400. */
  static final int BAD_REQUEST = 400;

  /** The destination was allowed but could not be reached: HTTP 502. */
  static final int BAD_GATEWAY = 502;

  private final String rule;
  private final int status;

  Denied(String rule, int status, String reason) {
    super(reason, null, false, false);
    this.rule = rule;
    this.status = status;
  }

  static Denied forbidden(String rule, String reason) {
    return new Denied(rule, FORBIDDEN, reason);
  }

  static Denied badRequest(String reason) {
    return new Denied("request", BAD_REQUEST, reason);
  }

  static Denied badGateway(String reason) {
    return new Denied("upstream", BAD_GATEWAY, reason);
  }

  String rule() {
    return rule;
  }

  int status() {
    return status;
  }

  /** The full text an agent sees in the response body. */
  String text() {
    String verb = status == FORBIDDEN ? "denied" : status == BAD_GATEWAY ? "failed" : "bad request";
    return "kavach egress: " + verb + ": " + getMessage();
  }
}
