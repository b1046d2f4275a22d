package dev.kavach.egress;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.regex.Pattern;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.jspecify.annotations.Nullable;

/**
 * One client connection to the proxy, from accept to close. The first byte decides the protocol:
 * {@code 0x05} is SOCKS5, anything else HTTP/1.x.
 */
final class Session implements Runnable, Watchdog.Guarded {
  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
  private static final Pattern STATUS = Pattern.compile("HTTP/1\\.[01] ([0-9]{3})( .*)?");

  private final EgressProxy proxy;
  private final SocketChannel channel;

  /** Everything to close when the connection expires or the proxy stops. */
  private final Set<AutoCloseable> open = ConcurrentHashMap.newKeySet();

  private volatile long deadline;
  private volatile boolean closed;

  /** Whether bytes of a response already went to the client (then no error response is sent). */
  private boolean responseStarted;

  Session(EgressProxy proxy, SocketChannel channel) {
    this.proxy = proxy;
    this.channel = channel;
    headerPhase();
  }

  @Override
  public long deadline() {
    return deadline;
  }

  @Override
  public void expire() {
    closeAll();
  }

  /** While a head is read: a fixed budget that traffic does not extend (slow-loris bound). */
  private void headerPhase() {
    deadline = System.nanoTime() + proxy.options().headerTimeout().toNanos();
  }

  /** While bodies or tunnels flow: closed after the idle timeout without traffic. */
  private void touch() {
    deadline = System.nanoTime() + proxy.options().idleTimeout().toNanos();
  }

  void closeAll() {
    closed = true;
    for (AutoCloseable c : open) {
      closeQuietly(c);
    }
    try {
      channel.close();
    } catch (IOException e) {
      // Already unusable.
    }
  }

  private <C extends AutoCloseable> C track(C c) {
    open.add(c);
    if (closed) {
      closeQuietly(c);
    }
    return c;
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // Closing is best effort; the resource is unusable either way.
    }
  }

  @Override
  public void run() {
    proxy.watchdog().add(this);
    try {
      HttpInput in = new HttpInput(track(Stream.of(channel)));
      int first = in.peek();
      if (first == 0x05) {
        socks(in);
      } else if (first >= 0) {
        http(in, null);
      }
    } catch (IOException | RuntimeException e) {
      // The client or destination went away, or the watchdog closed the connection.
    } finally {
      proxy.watchdog().remove(this);
      closeAll();
      proxy.release(this);
    }
  }

  // ---------------------------------------------------------------- HTTP

  /** A CONNECT tunnel that is being intercepted: requests inside it go to this destination. */
  private record Tunnel(Authority authority, List<InetAddress> addresses, String rule) {}

  private void http(HttpInput in, @Nullable Tunnel tunnel) throws IOException {
    while (true) {
      headerPhase();
      responseStarted = false;
      HttpHead req;
      try {
        req = HttpHead.read(in, "request");
        if (req == null) {
          return;
        }
        touch();
        if (!exchange(in, req, tunnel)) {
          return;
        }
      } catch (Denied d) {
        if (!responseStarted) {
          refuse(in, d, tunnel);
        }
        return;
      }
    }
  }

  /**
   * Forwards one request and its response.
   *
   * @return whether the client connection stays open for another request
   */
  private boolean exchange(HttpInput in, HttpHead req, @Nullable Tunnel tunnel)
      throws IOException, Denied {
    String[] parts = req.startLine().split(" ", -1);
    if (parts.length != 3 || !TOKEN.matcher(parts[0]).matches()) {
      throw Denied.badRequest("malformed request line: " + HttpHead.clip(req.startLine()));
    }
    String method = parts[0];
    String target = parts[1];
    String version = parts[2];
    if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
      throw Denied.badRequest("unsupported protocol version " + HttpHead.clip(version));
    }
    if (!target.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      // RFC 9112 3.2: a request target is visible ASCII; anything else is passed on by some
      // servers and refused by others, which is room for confusion the proxy does not leave.
      throw Denied.badRequest("the request target contains a character that is not visible ASCII");
    }
    if (method.equals("CONNECT")) {
      if (tunnel != null) {
        throw Denied.badRequest("CONNECT inside a tunnel");
      }
      connect(in, target);
      return false;
    }
    Authority authority;
    String path;
    int defaultPort = tunnel == null ? 80 : 443;
    String lower = target.toLowerCase(Locale.ROOT);
    if (tunnel != null && target.startsWith("/")) {
      authority = tunnel.authority();
      path = target;
    } else if (lower.startsWith(tunnel == null ? "http://" : "https://")) {
      String rest = target.substring(tunnel == null ? 7 : 8);
      int end = firstOf(rest, "/?#");
      authority = Authority.parse(end < 0 ? rest : rest.substring(0, end), defaultPort);
      path = end < 0 ? "/" : rest.substring(end);
      if (tunnel != null && !authority.equals(tunnel.authority())) {
        throw Denied.badRequest(
            "request for " + authority + " inside a tunnel to " + tunnel.authority());
      }
    } else if (tunnel == null && lower.startsWith("https://")) {
      throw Denied.badRequest(
          "https:// URLs go through CONNECT (set HTTPS_PROXY, not HTTP_PROXY, for them)");
    } else {
      throw Denied.badRequest(
          "this is a forward proxy: the request target must be an absolute http:// URL, not \""
              + HttpHead.clip(target)
              + "\"");
    }
    int hash = path.indexOf('#');
    if (hash >= 0) {
      path = path.substring(0, hash);
    }
    if (path.startsWith("?")) {
      path = "/" + path;
    }
    checkHostHeader(req, authority, defaultPort, version);

    String protocol = tunnel == null ? "http" : "https";
    String rule = tunnel == null ? check(protocol, authority) : tunnel.rule();
    Body body = Body.ofRequest(req);
    String[] targetOut = new String[1];
    Map<String, String> used;
    try {
      used = proxy.masking().apply(req, path, targetOut, authority.host(), authority.port());
    } catch (Denied d) {
      throw audited(protocol, authority, null, d);
    }
    List<InetAddress> addresses =
        tunnel == null ? resolve(protocol, authority) : tunnel.addresses();

    boolean clientKeepAlive = version.equals("HTTP/1.1") && !req.hasToken("Connection", "close");
    String upgrade = req.hasToken("Connection", "upgrade") ? req.single("Upgrade") : null;
    boolean expectContinue = "100-continue".equalsIgnoreCase(req.single("Expect"));
    req.remove("Expect");
    req.removeHopByHop();
    req.set("Host", authority.hostHeader(defaultPort));
    if (upgrade != null) {
      req.set("Connection", "Upgrade");
      req.set("Upgrade", upgrade);
    } else {
      // One request per destination connection: the response then ends at the latest when the
      // destination closes, and no connection state outlives a decision.
      req.set("Connection", "close");
    }
    req.startLine(method + " " + targetOut[0] + " " + version);

    Dialed up = dial(protocol, authority, addresses, tunnel != null);
    try {
      allow(protocol, authority, up.address(), rule, "", List.copyOf(used.keySet()));
      up.stream().write(req.bytes());
      if (expectContinue) {
        in.write(ascii("HTTP/1.1 100 Continue\r\n\r\n"));
      }
      body.copy(in, up.stream(), this::touch);

      HttpInput upIn = new HttpInput(up.stream());
      HttpHead resp;
      int status;
      while (true) {
        try {
          resp = HttpHead.read(upIn, "response");
        } catch (Denied d) {
          throw Denied.badGateway(authority + " sent a malformed response: " + d.getMessage());
        }
        if (resp == null) {
          throw Denied.badGateway(authority + " closed the connection without a response");
        }
        var m = STATUS.matcher(resp.startLine());
        if (!m.matches()) {
          throw Denied.badGateway(
              authority + " sent a malformed status line: " + HttpHead.clip(resp.startLine()));
        }
        status = Integer.parseInt(m.group(1));
        // Interim responses are dropped (a 100 Continue the client asked for was sent above),
        // except 101, which switches the connection to another protocol.
        if (status >= 200 || status == 101) {
          break;
        }
      }
      proxy.masking().mask(resp, used);
      if (status == 101) {
        if (upgrade == null) {
          throw Denied.badGateway(authority + " switched protocols without being asked to");
        }
        responseStarted = true;
        in.write(resp.bytes());
        pipe(in, upIn, null, protocol);
        return false;
      }
      Body respBody = Body.ofResponse(resp, method, status);
      boolean keep = clientKeepAlive && respBody.delimited();
      resp.removeHopByHop();
      resp.set("Connection", keep ? "keep-alive" : "close");
      responseStarted = true;
      in.write(resp.bytes());
      respBody.copy(upIn, in, this::touch);
      return keep;
    } finally {
      up.stream().close();
      open.remove(up.stream());
    }
  }

  private static void checkHostHeader(
      HttpHead req, Authority authority, int defaultPort, String version) throws Denied {
    String host = req.single("Host");
    if (host == null) {
      if (version.equals("HTTP/1.1")) {
        throw Denied.badRequest("HTTP/1.1 request without a Host header");
      }
      return;
    }
    // A server routes by Host: a Host naming another site than the checked target would let a
    // request reach a host the policy never saw (virtual hosting, CDN fronting).
    Authority h;
    try {
      h = Authority.parse(host, defaultPort);
    } catch (Denied d) {
      throw Denied.badRequest("invalid Host header \"" + HttpHead.clip(host) + "\"");
    }
    if (!h.equals(authority)) {
      throw Denied.badRequest(
          "Host header " + h + " does not match the request target " + authority);
    }
  }

  private static int firstOf(String s, String chars) {
    int best = -1;
    for (int k = 0; k < chars.length(); k++) {
      int i = s.indexOf(chars.charAt(k));
      if (i >= 0 && (best < 0 || i < best)) {
        best = i;
      }
    }
    return best;
  }

  /** Checks the name and port against the rules, auditing a refusal. */
  private String check(String protocol, Authority a) throws Denied {
    try {
      return proxy.rules().checkName(a.host(), a.port());
    } catch (Denied d) {
      throw audited(protocol, a, null, d);
    }
  }

  /** Resolves once and keeps the addresses the proxy may connect to, auditing a refusal. */
  private List<InetAddress> resolve(String protocol, Authority a) throws Denied {
    try {
      return proxy.rules().resolve(a.host(), proxy.options().resolver());
    } catch (Denied d) {
      throw audited(protocol, a, null, d);
    }
  }

  /** Reports an allowed destination; {@code note} is appended to the reason. */
  private void allow(
      String protocol,
      Authority a,
      InetAddress address,
      String rule,
      String note,
      List<String> secrets) {
    proxy.decide(
        new EgressDecision(
            true,
            protocol,
            a.host(),
            a.port(),
            Addresses.text(address),
            rule,
            "allowed by " + rule + note,
            secrets));
  }

  private Denied audited(String protocol, Authority a, @Nullable String address, Denied d) {
    proxy.decide(
        new EgressDecision(
            false, protocol, a.host(), a.port(), address, d.rule(), d.text(), List.of()));
    return d;
  }

  /** A connected destination. */
  private record Dialed(Stream stream, InetAddress address) {}

  /**
   * Connects to the first reachable checked address, and for intercepted tunnels runs TLS to the
   * real server with its name verified against the configured trust.
   */
  private Dialed dial(String protocol, Authority a, List<InetAddress> addresses, boolean tls)
      throws Denied {
    IOException last = null;
    for (InetAddress address : addresses) {
      // Registered before connecting: the watchdog (or close()) must be able to abort a connect
      // or a TLS handshake that a destination stalls, not only the traffic after it.
      Socket s = track(new Socket());
      try {
        s.setTcpNoDelay(true);
        s.connect(
            new InetSocketAddress(address, a.port()),
            (int) proxy.options().connectTimeout().toMillis());
        Socket connected = tls ? upstreamTls(s, a) : s;
        Dialed d = new Dialed(track(Stream.of(connected)), address);
        open.remove(s);
        return d;
      } catch (IOException e) {
        last = e;
        closeQuietly(s);
        open.remove(s);
      }
    }
    throw audited(
        protocol,
        a,
        addresses.isEmpty() ? null : Addresses.text(addresses.get(0)),
        Denied.badGateway(
            "cannot connect to " + a + ": " + (last == null ? "" : last.getMessage())));
  }

  private Socket upstreamTls(Socket plain, Authority a) throws IOException {
    SSLContext ctx = proxy.options().upstreamTls();
    if (ctx == null) {
      try {
        ctx = SSLContext.getDefault();
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IOException("no default TLS context", e);
      }
    }
    SSLSocket ssl =
        (SSLSocket) ctx.getSocketFactory().createSocket(plain, a.host(), a.port(), true);
    SSLParameters p = ssl.getSSLParameters();
    p.setEndpointIdentificationAlgorithm("HTTPS");
    if (Addresses.literal(a.host()) == null) {
      p.setServerNames(List.of(new SNIHostName(a.host())));
    }
    ssl.setSSLParameters(p);
    ssl.startHandshake();
    return ssl;
  }

  private void connect(HttpInput in, String target) throws IOException, Denied {
    Authority a = Authority.parse(target, -1);
    String rule = check("connect", a);
    List<InetAddress> addresses = resolve("connect", a);
    CertificateAuthority ca = proxy.ca();
    if (ca != null && proxy.masking().intercepts(a.host(), a.port())) {
      // From here to the end of the handshake counts as reading a head: building the host's TLS
      // context (key store, certificate) must not run on the short idle deadline.
      headerPhase();
      allow(
          "connect",
          a,
          addresses.get(0),
          rule,
          "; TLS intercepted for secret substitution",
          List.of());
      responseStarted = true;
      in.write(ascii("HTTP/1.1 200 Connection established\r\n\r\n"));
      SSLEngine engine = ca.serverContext(a.host()).createSSLEngine();
      engine.setUseClientMode(false);
      TlsStream tls = track(new TlsStream(in, engine));
      tls.handshake();
      http(new HttpInput(tls), new Tunnel(a, addresses, rule));
      return;
    }
    Dialed up = dial("connect", a, addresses, false);
    allow("connect", a, up.address(), rule, "", List.of());
    responseStarted = true;
    in.write(ascii("HTTP/1.1 200 Connection established\r\n\r\n"));
    pipe(in, up.stream(), a, "connect");
  }

  /**
   * Copies bytes both ways until both directions end; a direction's end is passed on as a half
   * close. An error in either direction closes the whole connection.
   */
  private void pipe(Stream client, Stream upstream, @Nullable Authority checkSni, String protocol)
      throws IOException {
    touch();
    Future<?> down;
    try {
      down = proxy.workers().submit(() -> pump(upstream, client));
    } catch (RejectedExecutionException e) {
      throw new IOException("proxy is shutting down", e);
    }
    // The destination's first bytes flow before the client's are read, so protocols in which the
    // server speaks first (SSH, SMTP) are not held up by the check below.
    if (checkSni == null || firstRecordAllowed(client, upstream, checkSni, protocol)) {
      pump(client, upstream);
    }
    try {
      down.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      // pump handles its own errors.
    }
  }

  /**
   * Reads the client's first bytes in an opaque tunnel; when they are a TLS ClientHello, its server
   * name must be the tunnel's host or itself pass the host rules. Otherwise a client could tunnel
   * to an allowed address and ask the server there (a shared CDN edge) for another site: domain
   * fronting. Forwards what it read when the check passes; closes the connection when not.
   */
  private boolean firstRecordAllowed(Stream client, Stream upstream, Authority a, String protocol) {
    byte[] buf = new byte[ClientHello.HEADER + ClientHello.MAX_RECORD];
    int n = 0;
    try {
      ClientHello.Result hello;
      while (true) {
        int r = client.read(buf, n, buf.length - n);
        if (r < 0) {
          if (n > 0) {
            upstream.write(buf, 0, n);
          }
          upstream.shutdownOutput();
          return false;
        }
        n += r;
        touch();
        hello = ClientHello.inspect(buf, n);
        if (hello.kind() != ClientHello.Kind.INCOMPLETE) {
          break;
        }
      }
      String refusal = sniRefusal(hello, a);
      if (refusal != null) {
        audited(protocol, a, null, Denied.forbidden("tls_sni", refusal));
        closeAll();
        return false;
      }
      upstream.write(buf, 0, n);
      return true;
    } catch (IOException e) {
      closeAll();
      return false;
    }
  }

  private @Nullable String sniRefusal(ClientHello.Result hello, Authority a) {
    if (hello.kind() == ClientHello.Kind.SPLIT) {
      return "the TLS ClientHello to "
          + a
          + " does not fit its first record or is malformed, so its server name cannot be checked";
    }
    String name = hello.serverName();
    if (name == null || name.equals(a.host())) {
      return null;
    }
    try {
      proxy.rules().checkName(Rules.normalizeHost(name), a.port());
      return null;
    } catch (Denied d) {
      return "the TLS server name "
          + HttpHead.clip(name)
          + " in the tunnel to "
          + a
          + " is not allowed: "
          + d.getMessage();
    }
  }

  private void pump(Stream from, Stream to) {
    byte[] buf = new byte[32 * 1024];
    try {
      int n;
      while ((n = from.read(buf, 0, buf.length)) >= 0) {
        to.write(buf, 0, n);
        touch();
      }
      to.shutdownOutput();
    } catch (IOException e) {
      closeAll();
    }
  }

  private void refuse(Stream client, Denied d, @Nullable Tunnel tunnel) {
    if (d.status() != Denied.FORBIDDEN && d.rule().equals("request")) {
      // Malformed requests are not policy decisions but are still worth a record.
      proxy.decide(
          new EgressDecision(
              false,
              tunnel == null ? "http" : "https",
              tunnel == null ? "" : tunnel.authority().host(),
              tunnel == null ? 0 : tunnel.authority().port(),
              null,
              d.rule(),
              d.text(),
              List.of()));
    }
    String text = d.text();
    byte[] body = (text + "\n").getBytes(StandardCharsets.UTF_8);
    String phrase =
        switch (d.status()) {
          case Denied.FORBIDDEN -> "Forbidden";
          case Denied.BAD_GATEWAY -> "Bad Gateway";
          default -> "Bad Request";
        };
    // The reason also goes in the status text: clients that report a failed CONNECT show only the
    // status line (Python's http.client: "Tunnel connection failed: 403 ...").
    String head =
        "HTTP/1.1 "
            + d.status()
            + " "
            + phrase
            + " ("
            + HttpHead.clip(text.replaceAll("[^\\x20-\\x7e]", "?")).replace("...", "")
            + ")\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
            + body.length
            + "\r\nX-Kavach-Egress: "
            + (d.status() == Denied.FORBIDDEN ? "denied" : "error")
            + "\r\nConnection: close\r\n\r\n";
    try {
      client.write(head.getBytes(StandardCharsets.ISO_8859_1));
      client.write(body);
    } catch (IOException e) {
      // The client left; the decision is audited already.
    }
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  // ---------------------------------------------------------------- SOCKS5 (RFC 1928)

  private void socks(HttpInput in) throws IOException {
    in.readByte(); // version 5, peeked already
    int nMethods = in.readByte();
    if (nMethods < 0) {
      return;
    }
    byte[] methods = in.readExactly(nMethods);
    boolean noAuth = false;
    for (byte m : methods) {
      noAuth |= m == 0;
    }
    if (!noAuth) {
      in.write(new byte[] {5, (byte) 0xff});
      return;
    }
    in.write(new byte[] {5, 0});
    byte[] req = in.readExactly(4);
    if (req[0] != 5) {
      return;
    }
    String host;
    switch (req[3]) {
      case 1 -> host = Addresses.text(InetAddress.getByAddress(in.readExactly(4)));
      case 3 -> host = new String(in.readExactly(in.readByte()), StandardCharsets.ISO_8859_1);
      case 4 -> host = Addresses.text(InetAddress.getByAddress(in.readExactly(16)));
      default -> {
        socksReply(in, 8); // address type not supported
        return;
      }
    }
    byte[] p = in.readExactly(2);
    int port = ((p[0] & 0xff) << 8) | (p[1] & 0xff);
    if (req[1] != 1) {
      socksReply(in, 7); // only CONNECT; no BIND, no UDP ASSOCIATE
      return;
    }
    Dialed up;
    Authority authority;
    try {
      Authority a = new Authority(Rules.normalizeHost(host), port);
      authority = a;
      if (port == 0) {
        throw Denied.badRequest("port 0");
      }
      String rule = check("socks5", a);
      up = dial("socks5", a, resolve("socks5", a), false);
      allow("socks5", a, up.address(), rule, "", List.of());
    } catch (Denied d) {
      socksReply(
          in,
          switch (d.status()) {
            case Denied.FORBIDDEN -> 2; // connection not allowed by ruleset
            case Denied.BAD_GATEWAY -> 4; // host unreachable
            default -> 1; // general failure
          });
      return;
    }
    socksReply(in, 0);
    pipe(in, up.stream(), authority, "socks5");
  }

  private static void socksReply(Stream client, int code) throws IOException {
    client.write(new byte[] {5, (byte) code, 0, 1, 0, 0, 0, 0, 0, 0});
  }
}
