package dev.kavach.egress;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.credential.CredentialSource;
import dev.kavach.internal.fs.Trees;
import dev.kavach.policy.NetworkPolicy;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The egress proxy of one sandbox: the only way out of a sandbox whose network namespace has
 * nothing but loopback. It speaks HTTP (absolute-form forward requests and CONNECT tunnels) and
 * SOCKS5 (CONNECT) on the same listener, decides every destination against the sandbox's {@link
 * NetworkPolicy}, resolves each name once and connects only to the checked address, swaps secret
 * placeholders for real values on the way out (intercepting TLS for hosts a secret is bound to),
 * and reports every decision to a listener that turns it into an audit event.
 *
 * <pre>{@code
 * NetworkPolicy net = new NetworkPolicy(true, List.of("api.github.com", "*.pypi.org"),
 *     List.of(443), List.of());
 * try (EgressProxy proxy = EgressProxy.builder(net).label("kv-1234").start()) {
 *   Path socket = proxy.socket();   // bind-mount into the sandbox, relay from 127.0.0.1
 * }
 * }</pre>
 *
 * <p>It listens on a Unix domain socket in a private directory (0700; the socket itself is 0666 so
 * that the sandbox's unprivileged uid can connect once it is bind-mounted), and optionally on a
 * loopback TCP port for tests. Refusals are answered {@code 403} with a one-line reason as the body
 * and the status text, e.g. {@code kavach egress: denied: host evil.example.com is not in
 * allowed_hosts [api.github.com, *.pypi.org]}; over SOCKS5 the reply code is {@code 2 (connection
 * not allowed by ruleset)} and the reason is in the audit record.
 *
 * <p>Bounds: request line and header lines 8 KiB, head 64 KiB, 128 fields; a client has {@link
 * EgressOptions#headerTimeout()} to send a head, a connection is closed after {@link
 * EgressOptions#idleTimeout()} without traffic, at most {@link EgressOptions#maxConnections()} are
 * served at once (others get {@code 503}). Threads are platform threads from a pool sized to the
 * connection limit; none blocks forever, because the watchdog closes the sockets of expired
 * connections.
 */
public final class EgressProxy implements AutoCloseable {
  /** Name of the socket file in the proxy's directory. */
  public static final String SOCKET_NAME = "proxy.sock";

  private final String label;
  private final EgressOptions options;
  private final Rules rules;
  private final Masking masking;
  private final @Nullable CertificateAuthority ca;
  private final Consumer<EgressDecision> listener;
  private final Path directory;
  private final Path socket;
  private final ServerSocketChannel unixServer;
  private final @Nullable ServerSocketChannel tcpServer;
  private final ThreadPoolExecutor workers;
  private final Watchdog watchdog = new Watchdog();
  private final Semaphore permits;
  private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean closed;

  private EgressProxy(Builder b, Path directory) throws IOException {
    this.label = b.label;
    this.options = b.options;
    this.rules = new Rules(b.policy, b.options.allowedAddresses(), ownAddresses());
    this.masking = new Masking(b.secrets, b.credentials);
    this.ca = masking.isEmpty() ? null : CertificateAuthority.create(b.label, b.random, b.clock);
    this.listener = b.listener;
    this.directory = directory;
    this.socket = directory.resolve(SOCKET_NAME);
    this.permits = new Semaphore(options.maxConnections());
    AtomicInteger n = new AtomicInteger();
    this.workers =
        new ThreadPoolExecutor(
            0,
            2 * options.maxConnections() + 2,
            10,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            r -> daemon(r, threadPrefix() + "worker-" + n.incrementAndGet()));
    ServerSocketChannel unix = null;
    ServerSocketChannel tcp = null;
    try {
      unix = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      unix.bind(UnixDomainSocketAddress.of(socket));
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
      if (options.loopbackListener()) {
        tcp = ServerSocketChannel.open();
        tcp.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      }
    } catch (IOException | RuntimeException e) {
      closeQuietly(unix);
      closeQuietly(tcp);
      throw e;
    }
    this.unixServer = unix;
    this.tcpServer = tcp;
  }

  /** A builder for a proxy enforcing {@code policy}. */
  public static Builder builder(NetworkPolicy policy) {
    return new Builder(policy);
  }

  private void startThreads() {
    threads.add(daemon(watchdog, threadPrefix() + "watchdog"));
    threads.add(daemon(() -> acceptLoop(unixServer), threadPrefix() + "accept-unix"));
    if (tcpServer != null) {
      ServerSocketChannel tcp = tcpServer;
      threads.add(daemon(() -> acceptLoop(tcp), threadPrefix() + "accept-tcp"));
    }
    threads.forEach(Thread::start);
  }

  /** The prefix of every thread this proxy runs: {@code kavach-egress-<label>-}. */
  public String threadPrefix() {
    return "kavach-egress-" + label + "-";
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** The Unix domain socket the proxy listens on. */
  public Path socket() {
    return socket;
  }

  /** The private directory holding the socket; removed by {@link #close()}. */
  public Path directory() {
    return directory;
  }

  /** The loopback TCP address, when {@link EgressOptions#loopbackListener()} is on. */
  public Optional<InetSocketAddress> loopbackAddress() {
    if (tcpServer == null) {
      return Optional.empty();
    }
    try {
      return Optional.of((InetSocketAddress) tcpServer.getLocalAddress());
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * The PEM certificate of this proxy's CA, present when some secret is bound to hosts (TLS to
   * those hosts is intercepted and re-signed by it). The sandbox must trust it.
   */
  public Optional<String> caCertificatePem() {
    return ca == null ? Optional.empty() : Optional.of(ca.pem());
  }

  /** Whether the proxy has been closed. */
  public boolean isClosed() {
    return closed;
  }

  /** Connections being served right now. */
  public int activeConnections() {
    return sessions.size();
  }

  private void acceptLoop(ServerSocketChannel server) {
    while (!closed) {
      SocketChannel ch;
      try {
        ch = server.accept();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        if (closed) {
          return;
        }
        pause(); // out of file descriptors, say: back off instead of spinning
        continue;
      }
      if (!permits.tryAcquire()) {
        refuseBusy(ch);
        continue;
      }
      Session s = new Session(this, ch);
      sessions.add(s);
      try {
        workers.execute(s);
      } catch (RejectedExecutionException e) {
        s.closeAll();
        release(s);
      }
      if (closed) {
        s.closeAll(); // close() may have swept the sessions before this one was added
      }
    }
  }

  private static void pause() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void refuseBusy(SocketChannel ch) {
    String body = "kavach egress: busy: more than " + options.maxConnections() + " connections\n";
    String response =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Length: "
            + body.length()
            + "\r\nConnection: close\r\n\r\n"
            + body;
    try (ch) {
      // Never block the accept thread on a client that does not read.
      ch.configureBlocking(false);
      ch.write(ByteBuffer.wrap(response.getBytes(StandardCharsets.US_ASCII)));
    } catch (IOException e) {
      // The client is gone; nothing to tell it.
    }
    decide(new EgressDecision(false, "unknown", "", 0, null, "limit", body.strip(), List.of()));
  }

  void release(Session s) {
    if (sessions.remove(s)) {
      permits.release();
    }
  }

  /**
   * Reports a decision. A listener failure (the audit log cannot be written) propagates, so an
   * allowed request that cannot be audited is not sent.
   */
  void decide(EgressDecision d) {
    listener.accept(d);
  }

  Rules rules() {
    return rules;
  }

  Masking masking() {
    return masking;
  }

  @Nullable CertificateAuthority ca() {
    return ca;
  }

  EgressOptions options() {
    return options;
  }

  ExecutorService workers() {
    return workers;
  }

  Watchdog watchdog() {
    return watchdog;
  }

  /**
   * Stops listening, closes every connection, stops every thread and removes the socket and its
   * directory. Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    closeQuietly(unixServer);
    closeQuietly(tcpServer);
    for (Session s : sessions) {
      s.closeAll();
    }
    watchdog.stop();
    workers.shutdownNow();
    boolean interrupted = false;
    try {
      workers.awaitTermination(5, TimeUnit.SECONDS);
      for (Thread t : threads) {
        t.interrupt();
        t.join(5000);
      }
    } catch (InterruptedException e) {
      interrupted = true;
    }
    try {
      Trees.deleteRecursively(directory);
    } catch (IOException e) {
      throw new KavachException(
          Reason.IO, "cannot remove egress proxy directory " + directory + ": " + e, e);
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void closeQuietly(@Nullable ServerSocketChannel ch) {
    if (ch != null) {
      try {
        ch.close();
      } catch (IOException e) {
        // Nothing more to release.
      }
    }
  }

  // Connecting to one of the host's own addresses reaches services bound to 0.0.0.0 on the host,
  // which are no more public than its loopback ones.
  private static List<InetAddress> ownAddresses() {
    List<InetAddress> out = new ArrayList<>();
    try {
      for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        out.addAll(Collections.list(nif.getInetAddresses()));
      }
    } catch (SocketException e) {
      // No interface list: the class-based checks still apply.
    }
    return out;
  }

  @Override
  public String toString() {
    return "EgressProxy[" + label + ", " + socket + "]";
  }

  /** Builder for {@link EgressProxy}. */
  public static final class Builder {
    private final NetworkPolicy policy;
    private String label = "proxy";
    private EgressOptions options = EgressOptions.defaults();
    private final List<MaskedSecret> secrets = new ArrayList<>();
    private @Nullable CredentialSource credentials;
    private Consumer<EgressDecision> listener = d -> {};
    private @Nullable Path parent;
    private SecureRandom random = new SecureRandom();
    private Clock clock = Clock.systemUTC();

    private Builder(NetworkPolicy policy) {
      this.policy = Objects.requireNonNull(policy, "policy");
    }

    /** Names the proxy's threads and directory (the sandbox id); letters, digits and '-'. */
    public Builder label(String label) {
      if (!label.matches("[A-Za-z0-9-]{1,40}")) {
        throw new IllegalArgumentException("label (\"" + label + "\") must be [A-Za-z0-9-]{1,40}");
      }
      this.label = label;
      return this;
    }

    /** Sets resolver, address exceptions, upstream TLS and limits. */
    public Builder options(EgressOptions options) {
      this.options = Objects.requireNonNull(options, "options");
      return this;
    }

    /** Adds a secret whose placeholder the proxy swaps for the real value. */
    public Builder secret(MaskedSecret secret) {
      secrets.add(Objects.requireNonNull(secret, "secret"));
      return this;
    }

    /** Where real secret values come from. */
    public Builder credentials(CredentialSource source) {
      this.credentials = Objects.requireNonNull(source, "credentials");
      return this;
    }

    /** Receives every decision, on the proxy's threads. */
    public Builder listener(Consumer<EgressDecision> listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * The directory in which the proxy creates its private directory; {@code /dev/shm} when it
     * exists (memory-backed, found by the leak checks), else the JVM's temp directory.
     */
    public Builder parentDirectory(Path parent) {
      this.parent = Objects.requireNonNull(parent, "parent");
      return this;
    }

    /** Sets the randomness for the CA and directory name. */
    public Builder random(SecureRandom random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /** Sets the clock for certificate validity. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Creates the directory and socket and starts serving.
     *
     * @throws KavachException with {@link Reason#IO} if the socket cannot be created
     */
    public EgressProxy start() {
      if (!secrets.isEmpty() && credentials == null) {
        throw new KavachException(
            Reason.POLICY_INVALID, "masked secrets are configured but no credential source is set");
      }
      Path base = parent;
      if (base == null) {
        Path shm = Path.of("/dev/shm");
        base = Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
      }
      byte[] r = new byte[4];
      random.nextBytes(r);
      Path dir = base.resolve("kavach-" + label + "-egress-" + HexFormat.of().formatHex(r));
      try {
        Files.createDirectory(
            dir,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } catch (IOException e) {
        throw new KavachException(Reason.IO, "cannot create egress proxy directory " + dir, e);
      }
      EgressProxy proxy;
      try {
        proxy = new EgressProxy(this, dir);
      } catch (IOException | RuntimeException e) {
        try {
          Trees.deleteRecursively(dir);
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
        if (e instanceof KavachException k) {
          throw k;
        }
        throw new KavachException(Reason.IO, "cannot start the egress proxy: " + e, e);
      }
      proxy.startThreads();
      return proxy;
    }
  }
}
