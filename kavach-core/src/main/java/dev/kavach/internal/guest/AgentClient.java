package dev.kavach.internal.guest;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.backend.ExecSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs commands through kavach-agent: one connection per exec, so execs run concurrently and a
 * dropped connection kills exactly one command tree. The agent enforces the timeout, the output cap
 * and the tree kill; this side bounds everything it reads (the guest is untrusted) and keeps its
 * own watchdog in case the guest stops answering.
 *
 * <pre>{@code
 * AgentClient agent = new AgentClient(() -> VsockChannel.connect(uds, AgentProtocol.DEFAULT_PORT));
 * AgentClient.Result r = agent.run(spec, "/workspace");
 * }</pre>
 */
public final class AgentClient {
  // How long past the exec's timeout the host waits for the agent's own verdict.
  private static final Duration WATCHDOG_GRACE = Duration.ofSeconds(10);
  // How long a kill frame may take before the connection is closed instead.
  private static final Duration KILL_GRACE = Duration.ofSeconds(3);

  private final Connector connector;
  private final Set<Exchange> running = ConcurrentHashMap.newKeySet();

  /** Opens a connection to the agent, handshake done. */
  @FunctionalInterface
  public interface Connector {
    /** A fresh connection to the agent. */
    SocketChannel connect() throws IOException;
  }

  /**
   * How a command ended.
   *
   * @param exitCode exit status; 128+N for a death by signal N
   * @param signal the signal that killed it
   * @param timedOut whether the timeout killed it
   * @param killed whether {@link #killAll} (or the agent's shutdown) killed it
   * @param stdout standard output, at most the limit
   * @param stderr standard error, at most the limit
   * @param stdoutTruncated whether standard output passed the limit
   * @param stderrTruncated whether standard error passed the limit
   * @param duration wall-clock time of the exchange
   */
  // Byte arrays rather than immutable copies: outputs reach megabytes and are never shared.
  @SuppressWarnings("ArrayRecordComponent")
  public record Result(
      int exitCode,
      OptionalInt signal,
      boolean timedOut,
      boolean killed,
      byte[] stdout,
      byte[] stderr,
      boolean stdoutTruncated,
      boolean stderrTruncated,
      Duration duration) {}

  /** A client that opens each connection with {@code connector}. */
  public AgentClient(Connector connector) {
    this.connector = connector;
  }

  /**
   * Asks the agent for its version.
   *
   * @throws IOException if it does not answer
   */
  public String ping() throws IOException {
    try (SocketChannel ch = connector.connect()) {
      AgentProtocol.write(ch, AgentProtocol.PING, new byte[0], 0, 0);
      AgentProtocol.Frame f = AgentProtocol.read(ch, 256);
      if (f == null || f.type() != AgentProtocol.PING) {
        throw new IOException("agent did not answer the ping");
      }
      return new String(f.payload(), StandardCharsets.UTF_8);
    }
  }

  /**
   * Runs one command in the guest.
   *
   * @param cwd working directory in the guest, empty for the agent's default
   * @throws KavachException with {@link Reason#LAUNCH_FAILED} if the agent cannot be reached or
   *     cannot start the command (the step and errno are named), {@link Reason#IO} if the agent
   *     breaks the protocol
   */
  public Result run(ExecSpec spec, String cwd) {
    return run(spec, cwd, new byte[0]);
  }

  /**
   * Runs one command in the guest under a seccomp filter the agent installs right before execve.
   *
   * @param seccompBpf the compiled filter, empty for none
   * @throws KavachException as {@link #run(ExecSpec, String)}; a filter the guest kernel refuses is
   *     a {@link Reason#LAUNCH_FAILED} naming the {@code seccomp} step: the command did not run
   */
  public Result run(ExecSpec spec, String cwd, byte[] seccompBpf) {
    byte[] request;
    try {
      request =
          AgentProtocol.encodeRequest(
              spec.argv(),
              spec.env(),
              cwd,
              spec.timeout(),
              spec.outputLimit(),
              spec.stdin().length > 0,
              seccompBpf);
    } catch (IllegalArgumentException e) {
      throw new KavachException(Reason.LAUNCH_FAILED, "cannot send to the guest agent: " + e, e);
    }
    long start = System.nanoTime();
    SocketChannel ch;
    try {
      ch = connector.connect();
    } catch (IOException e) {
      throw new KavachException(Reason.LAUNCH_FAILED, "cannot reach the guest agent: " + e, e);
    }
    Exchange x = new Exchange(ch);
    running.add(x);
    try {
      return x.run(request, spec, start);
    } finally {
      running.remove(x);
      x.close();
    }
  }

  /** Kills every running command (a kill frame, then closing the connection). */
  public void killAll() {
    running.forEach(Exchange::kill);
  }

  /** One exec on one connection. */
  private static final class Exchange {
    private final SocketChannel ch;
    private final ReentrantLock writeLock = new ReentrantLock();
    private volatile boolean killRequested;
    private volatile boolean watchdogFired;

    Exchange(SocketChannel ch) {
      this.ch = ch;
    }

    Result run(byte[] request, ExecSpec spec, long start) {
      Thread watchdog =
          new Thread(() -> watch(spec.timeout().plus(WATCHDOG_GRACE)), "kavach-agent-watchdog");
      watchdog.setDaemon(true);
      try {
        send(AgentProtocol.REQUEST, request, 0, request.length);
        if (spec.stdin().length > 0) {
          Thread writer = new Thread(() -> writeStdin(spec.stdin()), "kavach-agent-stdin");
          writer.setDaemon(true);
          writer.start();
        }
        watchdog.start();
        return readUntilExit(spec, start);
      } catch (AsynchronousCloseException e) {
        if (watchdogFired) {
          // The guest stopped answering: the agent's verdict never came.
          return closedResult(start, true);
        }
        return closedResult(start, false);
      } catch (IOException e) {
        if (killRequested) {
          return closedResult(start, false);
        }
        throw new KavachException(Reason.IO, "guest agent connection failed: " + e, e);
      } finally {
        watchdog.interrupt();
      }
    }

    private Result readUntilExit(ExecSpec spec, long start) throws IOException {
      int limit = spec.outputLimit();
      Bounded out = new Bounded(limit);
      Bounded err = new Bounded(limit);
      while (true) {
        AgentProtocol.Frame f = AgentProtocol.read(ch, AgentProtocol.MAX_CHUNK);
        if (f == null) {
          if (killRequested) {
            return closedResult(start, false);
          }
          throw new KavachException(
              Reason.IO, "guest agent closed the connection before the exit status");
        }
        switch (f.type()) {
          case AgentProtocol.STDOUT -> out.add(f.payload());
          case AgentProtocol.STDERR -> err.add(f.payload());
          case AgentProtocol.EXIT -> {
            AgentProtocol.Exit e = AgentProtocol.Exit.parse(f.payload());
            return new Result(
                e.code(),
                e.signal() > 0 ? OptionalInt.of(e.signal()) : OptionalInt.empty(),
                e.timedOut(),
                e.killed(),
                out.bytes(),
                err.bytes(),
                e.stdoutTruncated() || out.overflowed,
                e.stderrTruncated() || err.overflowed,
                Duration.ofNanos(System.nanoTime() - start));
          }
          case AgentProtocol.ERROR -> {
            AgentProtocol.Failure fail = AgentProtocol.Failure.parse(f.payload());
            throw new KavachException(
                Reason.LAUNCH_FAILED,
                "guest agent could not start "
                    + spec.argv().get(0)
                    + ": "
                    + fail.step()
                    + " failed with "
                    + fail.errnoName());
          }
          default ->
              throw new IOException("guest agent sent an unknown frame type " + (f.type() & 0xff));
        }
      }
    }

    private static Result closedResult(long start, boolean timedOut) {
      // The agent SIGKILLs the tree when the connection drops; that is the only end it can have.
      return new Result(
          128 + 9,
          OptionalInt.of(9),
          timedOut,
          !timedOut,
          new byte[0],
          new byte[0],
          false,
          false,
          Duration.ofNanos(System.nanoTime() - start));
    }

    private void writeStdin(byte[] stdin) {
      try {
        for (int off = 0; off < stdin.length; off += AgentProtocol.MAX_CHUNK) {
          send(
              AgentProtocol.STDIN,
              stdin,
              off,
              Math.min(AgentProtocol.MAX_CHUNK, stdin.length - off));
        }
        send(AgentProtocol.STDIN_CLOSE, new byte[0], 0, 0);
      } catch (IOException e) {
        // The exchange ended (exit, kill or a closed connection); the reader reports it.
      }
    }

    // Frames from the stdin writer and a kill must not interleave.
    private void send(byte type, byte[] p, int off, int len) throws IOException {
      writeLock.lock();
      try {
        AgentProtocol.write(ch, type, p, off, len);
      } finally {
        writeLock.unlock();
      }
    }

    private void watch(Duration limit) {
      try {
        Thread.sleep(limit.toMillis());
        watchdogFired = true;
        close();
      } catch (InterruptedException e) {
        // The exchange finished first.
      }
    }

    void kill() {
      killRequested = true;
      try {
        // A stdin writer blocked on a full guest may hold the lock; then closing is the kill.
        if (writeLock.tryLock(200, TimeUnit.MILLISECONDS)) {
          try {
            AgentProtocol.write(ch, AgentProtocol.KILL, new byte[0], 0, 0);
          } finally {
            writeLock.unlock();
          }
          Thread closer =
              new Thread(
                  () -> {
                    try {
                      Thread.sleep(KILL_GRACE.toMillis());
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                    close();
                  },
                  "kavach-agent-kill");
          closer.setDaemon(true);
          closer.start();
          return;
        }
      } catch (IOException e) {
        // Fall through to closing.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      close();
    }

    void close() {
      try {
        ch.close();
      } catch (IOException e) {
        // Already gone.
      }
    }
  }

  /** Keeps the first {@code limit} bytes; the guest cannot make the host hold more. */
  private static final class Bounded {
    private final int limit;
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
    private boolean overflowed;

    Bounded(int limit) {
      this.limit = limit;
    }

    void add(byte[] chunk) {
      int room = Math.max(0, Math.min(chunk.length, limit - kept.size()));
      kept.write(chunk, 0, room);
      overflowed |= room < chunk.length;
    }

    byte[] bytes() {
      return kept.toByteArray();
    }
  }
}
