package dev.kavach.bench;

import dev.kavach.ExecResult;
import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.egress.EgressOptions;
import dev.kavach.egress.EgressProxy;
import dev.kavach.egress.Resolver;
import dev.kavach.policy.NetworkPolicy;
import dev.kavach.policy.SandboxPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the egress proxy costs, against the same request made directly, in the same run. A small
 * origin on 127.0.0.1 answers {@code /small} (2 bytes) and {@code /big} (100 MiB); the proxy knows
 * it as {@code api.bench} through a fixed resolver (no DNS). Every request opens a new connection
 * (no keep-alive on either side), so the proxied figures include the proxy's accept, parse,
 * decision, audit callback and its own connect to the origin.
 *
 * <p>{@link Latency} times one small request; {@link Sized} the 100 MiB transfers; {@link
 * InSandbox} runs curl inside a real process sandbox, through the launcher's relay and the proxy,
 * against curl on the host.
 */
public class EgressBenchmark {
  static final long BIG = 100L << 20;
  static final String HOST = "api.bench";

  private EgressBenchmark() {}

  /** An origin and a proxy that knows it as {@code api.bench}. */
  @State(Scope.Benchmark)
  public abstract static class Fixture {
    Origin origin;
    EgressProxy proxy;
    InetSocketAddress proxyTcp;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
      origin = new Origin();
      proxy =
          EgressProxy.builder(new NetworkPolicy(true, List.of(HOST), List.of(), List.of()))
              .label("kv-bench")
              .options(options())
              .start();
      proxyTcp = proxy.loopbackAddress().orElseThrow();
    }

    static EgressOptions options() {
      return EgressOptions.builder()
          .resolver(Resolver.fixed(Map.of(HOST, "127.0.0.1")))
          .allowAddresses("127.0.0.1/32")
          .loopbackListener(true)
          .build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      proxy.close();
      origin.close();
    }

    String forward(String path) {
      return "GET http://"
          + HOST
          + ":"
          + origin.port()
          + path
          + " HTTP/1.1\r\nHost: "
          + HOST
          + ":"
          + origin.port()
          + "\r\nConnection: close\r\n\r\n";
    }

    long connectThenGet(Socket s, String path) throws IOException {
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      out.write(
          ("CONNECT " + HOST + ":" + origin.port() + " HTTP/1.1\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      // "HTTP/1.1 200 Connection established\r\n\r\n" is 39 bytes.
      in.readNBytes(39);
      return exchange(s, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    }
  }

  /** One small request, each on a new connection: direct, forwarded, over Unix, tunnelled. */
  @State(Scope.Benchmark)
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  @Warmup(iterations = 3, time = 2)
  @Measurement(iterations = 5, time = 2)
  @Fork(1)
  public static class Latency extends Fixture {
    /** Baseline: GET /small straight to the origin. */
    @Benchmark
    public long direct() throws IOException {
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), origin.port())) {
        return exchange(s, "GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      }
    }

    /** The same request through the proxy's loopback TCP listener, as an HTTP forward request. */
    @Benchmark
    public long proxied() throws IOException {
      try (Socket s = new Socket(proxyTcp.getAddress(), proxyTcp.getPort())) {
        return exchange(s, forward("/small"));
      }
    }

    /** The same request through the proxy's Unix socket: the path the sandbox's relay takes. */
    @Benchmark
    public long proxiedUnix() throws IOException {
      try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
        ch.connect(UnixDomainSocketAddress.of(proxy.socket()));
        ch.write(ByteBuffer.wrap(forward("/small").getBytes(StandardCharsets.US_ASCII)));
        ByteBuffer buf = ByteBuffer.allocate(4096);
        long n = 0;
        int r;
        while ((r = ch.read(buf)) >= 0) {
          n += r;
          buf.clear();
        }
        return n;
      }
    }

    /** CONNECT, then the request through the tunnel. */
    @Benchmark
    public long tunnelled() throws IOException {
      try (Socket s = new Socket(proxyTcp.getAddress(), proxyTcp.getPort())) {
        return connectThenGet(s, "/small");
      }
    }
  }

  /** Sends a request and reads until the server closes; returns the bytes read. */
  static long exchange(Socket s, String request) throws IOException {
    s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
    InputStream in = s.getInputStream();
    byte[] buf = new byte[64 * 1024];
    long n = 0;
    int r;
    while ((r = in.read(buf)) >= 0) {
      n += r;
    }
    return n;
  }

  /** 100 MiB transfers, one per operation: direct, forwarded and through a CONNECT tunnel. */
  @State(Scope.Benchmark)
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  @Warmup(iterations = 2, time = 3)
  @Measurement(iterations = 10, time = 3)
  @Fork(1)
  public static class Sized extends Fixture {
    /** Baseline: 100 MiB straight from the origin. */
    @Benchmark
    public long direct100MiB() throws IOException {
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), origin.port())) {
        return exchange(s, "GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      }
    }

    /** 100 MiB through a CONNECT tunnel. */
    @Benchmark
    public long tunnel100MiB() throws IOException {
      try (Socket s = new Socket(proxyTcp.getAddress(), proxyTcp.getPort())) {
        return connectThenGet(s, "/big");
      }
    }

    /** 100 MiB as a forwarded HTTP response (the proxy frames it by Content-Length). */
    @Benchmark
    public long forward100MiB() throws IOException {
      try (Socket s = new Socket(proxyTcp.getAddress(), proxyTcp.getPort())) {
        return exchange(s, forward("/big"));
      }
    }
  }

  /**
   * curl in a real process sandbox (loopback-only network namespace, the launcher's relay, the
   * proxy) against the same curl on the host, each a fresh process per operation.
   */
  @State(Scope.Benchmark)
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  @Warmup(iterations = 2, time = 3)
  @Measurement(iterations = 5, time = 5)
  @Fork(1)
  public static class InSandbox {
    Origin origin;
    Sandbox sandbox;
    Sandbox sandboxNoNet;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
      origin = new Origin();
      SandboxPolicy policy =
          SandboxPolicy.minimal().toBuilder()
              .network(new NetworkPolicy(true, List.of(HOST), List.of(), List.of()))
              .build();
      sandbox =
          Sandbox.create(
              SandboxConfig.builder()
                  .backend("process")
                  .policy(policy)
                  .egress(Fixture.options())
                  .build());
      sandbox.start();
      sandboxNoNet =
          Sandbox.create(
              SandboxConfig.builder().backend("process").policy(SandboxPolicy.minimal()).build());
      sandboxNoNet.start();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      sandbox.close();
      sandboxNoNet.close();
      origin.close();
    }

    private String url(String path) {
      return "http://" + HOST + ":" + origin.port() + path;
    }

    /** Baseline: curl on the host, straight to the origin. */
    @Benchmark
    public int hostCurlSmall() throws Exception {
      return curlOnHost("http://127.0.0.1:" + origin.port() + "/small");
    }

    /** Baseline for the sandbox's own cost: curl --version in a sandbox without egress. */
    @Benchmark
    public int sandboxCurlVersion() {
      return check(sandboxNoNet.exec(List.of("curl", "--version")));
    }

    /** curl in the sandbox, through relay and proxy, 2 bytes. */
    @Benchmark
    public int sandboxCurlSmall() {
      return check(sandbox.exec(List.of("curl", "-sS", "-o", "/dev/null", url("/small"))));
    }

    /** Baseline: curl on the host, 100 MiB straight from the origin. */
    @Benchmark
    public int hostCurl100MiB() throws Exception {
      return curlOnHost("http://127.0.0.1:" + origin.port() + "/big");
    }

    /** curl in the sandbox, 100 MiB through relay and proxy. */
    @Benchmark
    public int sandboxCurl100MiB() {
      return check(sandbox.exec(List.of("curl", "-sS", "-o", "/dev/null", url("/big"))));
    }

    private static int curlOnHost(String url) throws Exception {
      Process p =
          new ProcessBuilder("curl", "-sS", "--noproxy", "*", "-o", "/dev/null", url)
              .redirectErrorStream(true)
              .start();
      p.getInputStream().readAllBytes();
      int code = p.waitFor();
      if (code != 0) {
        throw new IllegalStateException("curl exited " + code);
      }
      return code;
    }

    private static int check(ExecResult r) {
      if (r.exitCode() != 0) {
        throw new IllegalStateException("exit " + r.exitCode() + ": " + r.stderrText());
      }
      return r.exitCode();
    }
  }

  /** A minimal HTTP/1.1 origin: one thread per connection, one response per connection. */
  static final class Origin implements AutoCloseable {
    private final ServerSocket server;
    private final ExecutorService pool = Executors.newCachedThreadPool();

    Origin() throws IOException {
      server = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
      pool.execute(this::acceptLoop);
    }

    int port() {
      return server.getLocalPort();
    }

    private void acceptLoop() {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          pool.execute(() -> serve(s));
        } catch (IOException e) {
          return;
        }
      }
    }

    private static void serve(Socket s) {
      try (s) {
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
          int c = in.read();
          if (c < 0) {
            return;
          }
          head.append((char) c);
        }
        boolean big = head.toString().startsWith("GET /big");
        long length = big ? BIG : 2;
        OutputStream out = s.getOutputStream();
        out.write(
            ("HTTP/1.1 200 OK\r\nContent-Length: " + length + "\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        if (!big) {
          out.write("ok".getBytes(StandardCharsets.US_ASCII));
          return;
        }
        byte[] block = new byte[64 * 1024];
        for (long left = length; left > 0; left -= block.length) {
          out.write(block, 0, (int) Math.min(block.length, left));
        }
      } catch (IOException e) {
        // The client went away.
      }
    }

    @Override
    public void close() {
      try {
        server.close();
      } catch (IOException e) {
        // Closing anyway.
      }
      pool.shutdownNow();
    }
  }
}
