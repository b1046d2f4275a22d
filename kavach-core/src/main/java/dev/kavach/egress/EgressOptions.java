package dev.kavach.egress;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * How the egress proxy resolves names, which refused address blocks it may still reach, how it
 * trusts upstream TLS servers, and its limits. The defaults suit production: system DNS, no private
 * address allowed, the JDK's trusted CAs, 256 connections.
 *
 * <pre>{@code
 * EgressOptions options = EgressOptions.builder()
 *     .allowAddresses("10.20.0.0/16")        // an internal API the policy names
 *     .build();
 * }</pre>
 */
public final class EgressOptions {
  private final Resolver resolver;
  private final List<String> allowedAddresses;
  private final @Nullable SSLContext upstreamTls;
  private final boolean loopbackListener;
  private final int maxConnections;
  private final Duration headerTimeout;
  private final Duration idleTimeout;
  private final Duration connectTimeout;

  private EgressOptions(Builder b) {
    this.resolver = b.resolver;
    this.allowedAddresses = List.copyOf(b.allowedAddresses);
    this.upstreamTls = b.upstreamTls;
    this.loopbackListener = b.loopbackListener;
    this.maxConnections = b.maxConnections;
    this.headerTimeout = b.headerTimeout;
    this.idleTimeout = b.idleTimeout;
    this.connectTimeout = b.connectTimeout;
  }

  /** The defaults. */
  public static EgressOptions defaults() {
    return builder().build();
  }

  /** A builder with the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder initialised with these options. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.resolver = resolver;
    b.allowedAddresses.addAll(allowedAddresses);
    b.upstreamTls = upstreamTls;
    b.loopbackListener = loopbackListener;
    b.maxConnections = maxConnections;
    b.headerTimeout = headerTimeout;
    b.idleTimeout = idleTimeout;
    b.connectTimeout = connectTimeout;
    return b;
  }

  /** Resolves destination names; the system resolver by default. */
  public Resolver resolver() {
    return resolver;
  }

  /**
   * Address blocks ({@code 10.20.0.0/16}, {@code 127.0.0.1}) the proxy may connect to although they
   * are loopback, private, link-local or metadata addresses. Empty by default.
   */
  public List<String> allowedAddresses() {
    return allowedAddresses;
  }

  /**
   * The TLS context the proxy uses towards real servers when it intercepts TLS, or null for the JDK
   * default (its trusted CAs, with host name verification).
   */
  public @Nullable SSLContext upstreamTls() {
    return upstreamTls;
  }

  /** Whether the proxy also listens on a loopback TCP port of the host (tests, benchmarks). */
  public boolean loopbackListener() {
    return loopbackListener;
  }

  /** Client connections served at once; more are answered 503 and closed. */
  public int maxConnections() {
    return maxConnections;
  }

  /** Time a client has to send a complete request head (slow-loris bound). */
  public Duration headerTimeout() {
    return headerTimeout;
  }

  /** Time a connection may go without a byte in either direction before it is closed. */
  public Duration idleTimeout() {
    return idleTimeout;
  }

  /** Time allowed to connect to a destination. */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /** Builder for {@link EgressOptions}. */
  public static final class Builder {
    private Resolver resolver = Resolver.system();
    private final List<String> allowedAddresses = new ArrayList<>();
    private @Nullable SSLContext upstreamTls;
    private boolean loopbackListener;
    private int maxConnections = 256;
    private Duration headerTimeout = Duration.ofSeconds(30);
    private Duration idleTimeout = Duration.ofMinutes(5);
    private Duration connectTimeout = Duration.ofSeconds(10);

    private Builder() {}

    /** Sets the resolver. */
    public Builder resolver(Resolver resolver) {
      this.resolver = Objects.requireNonNull(resolver, "resolver");
      return this;
    }

    /**
     * Allows address blocks that are refused by default.
     *
     * @throws IllegalArgumentException naming the block if one is not an IP address or CIDR
     */
    public Builder allowAddresses(String... blocks) {
      for (String b : blocks) {
        Addresses.Cidr.parse(b);
        allowedAddresses.add(b);
      }
      return this;
    }

    /** Sets the TLS context used towards real servers when intercepting. */
    public Builder upstreamTls(SSLContext context) {
      this.upstreamTls = Objects.requireNonNull(context, "upstreamTls");
      return this;
    }

    /** Also listen on a loopback TCP port of the host. */
    public Builder loopbackListener(boolean on) {
      this.loopbackListener = on;
      return this;
    }

    /** Sets the connection limit (1 to 4096). */
    public Builder maxConnections(int n) {
      if (n < 1 || n > 4096) {
        throw new IllegalArgumentException("maxConnections (" + n + ") must be within 1..4096");
      }
      this.maxConnections = n;
      return this;
    }

    /** Sets the time a client has to send a request head. */
    public Builder headerTimeout(Duration d) {
      this.headerTimeout = positive("headerTimeout", d);
      return this;
    }

    /** Sets the idle timeout of a connection. */
    public Builder idleTimeout(Duration d) {
      this.idleTimeout = positive("idleTimeout", d);
      return this;
    }

    /** Sets the connect timeout. */
    public Builder connectTimeout(Duration d) {
      this.connectTimeout = positive("connectTimeout", d);
      return this;
    }

    private static Duration positive(String field, Duration d) {
      Objects.requireNonNull(d, field);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(field + " (" + d + ") must be positive");
      }
      return d;
    }

    /** Builds the options. */
    public EgressOptions build() {
      return new EgressOptions(this);
    }
  }
}
