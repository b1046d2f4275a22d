package dev.kavach.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * A local origin server on 127.0.0.1 that records every request it receives. {@code /chunked}
 * answers with a chunked body, {@code /big?n=N} with N bytes, everything else with a short text
 * naming the server.
 */
public final class TestOrigin implements AutoCloseable {
  /** One request as the origin saw it. */
  @SuppressWarnings("ArrayRecordComponent") // a test record, never compared
  public record Seen(String method, String uri, Map<String, List<String>> headers, byte[] body) {
    /** The first value of a header, case-insensitive name. */
    public @Nullable String header(String name) {
      for (Map.Entry<String, List<String>> e : headers.entrySet()) {
        if (e.getKey().equalsIgnoreCase(name)) {
          return e.getValue().get(0);
        }
      }
      return null;
    }

    /** The body as UTF-8. */
    public String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private final String name;

  /** Every request received, in order. */
  public final List<Seen> seen = new CopyOnWriteArrayList<>();

  private final HttpServer server;
  private final ExecutorService executor = Executors.newFixedThreadPool(4);

  private TestOrigin(String name, HttpServer server) {
    this.name = name;
    this.server = server;
    server.createContext("/", this::handle);
    server.setExecutor(executor);
    server.start();
  }

  /** A plain HTTP origin. */
  public static TestOrigin http(String name) throws IOException {
    return new TestOrigin(
        name, HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0));
  }

  /** An HTTPS origin presenting the certificate of {@code tls}. */
  public static TestOrigin https(String name, SSLContext tls) throws IOException {
    HttpsServer s =
        HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    s.setHttpsConfigurator(new HttpsConfigurator(tls));
    return new TestOrigin(name, s);
  }

  /** The port on 127.0.0.1. */
  public int port() {
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange ex) throws IOException {
    byte[] body = ex.getRequestBody().readAllBytes();
    seen.add(
        new Seen(
            ex.getRequestMethod(),
            ex.getRequestURI().toString(),
            Map.copyOf(ex.getRequestHeaders()),
            body));
    String path = ex.getRequestURI().getPath();
    if (path.equals("/echo-auth")) {
      // Reflects a request header, as some APIs and test services do.
      String auth = ex.getRequestHeaders().getFirst("Authorization");
      ex.getResponseHeaders().add("X-Seen-Authorization", auth == null ? "" : auth);
    }
    if (path.equals("/big")) {
      long n = Long.parseLong(ex.getRequestURI().getQuery().substring(2));
      ex.sendResponseHeaders(200, n);
      byte[] block = new byte[64 * 1024];
      try (OutputStream out = ex.getResponseBody()) {
        for (long left = n; left > 0; left -= block.length) {
          out.write(block, 0, (int) Math.min(block.length, left));
        }
      }
      return;
    }
    byte[] reply =
        ("hello from "
                + name
                + " "
                + ex.getRequestMethod()
                + " "
                + ex.getRequestURI()
                + " body="
                + body.length)
            .getBytes(StandardCharsets.UTF_8);
    // 0 means chunked in com.sun.net.httpserver.
    ex.sendResponseHeaders(200, path.equals("/chunked") ? 0 : reply.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(reply);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
