package dev.kavach.internal.exec;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The one wrapper around {@link ProcessBuilder}: a clean environment, standard input from bytes or
 * {@code /dev/null}, a wall-clock timeout that kills the whole tree, and output captured up to a
 * cap per stream while the rest is drained and discarded (so the writer never dies of SIGPIPE).
 *
 * <pre>{@code
 * Exec.Result r = Exec.run(Exec.command(List.of("runc", "--version")).build());
 * }</pre>
 */
public final class Exec {
  private static final int CHUNK = 64 * 1024;
  // After the process exits, output readers get this long to reach end-of-file. A reader that is
  // still blocked then has a pipe held open by a process that escaped the kill; its output so far
  // is kept and the reader is abandoned.
  private static final Duration READER_GRACE = Duration.ofSeconds(5);

  private Exec() {}

  /** A builder for a command with this argv. */
  public static Command.Builder command(List<String> argv) {
    return new Command.Builder(argv);
  }

  /**
   * What to run.
   *
   * @param argv program and arguments
   * @param env the complete environment (nothing is inherited)
   * @param cwd working directory, or null for the JVM's
   * @param stdin standard input bytes; empty means {@code /dev/null}
   * @param timeout wall-clock limit
   * @param outputLimit bytes kept per stream
   * @param onTimeout kills the process tree when the timeout passes or {@link Running#kill} is
   *     called
   */
  // Byte arrays rather than immutable copies: outputs reach megabytes and are never shared.
  @SuppressWarnings("ArrayRecordComponent")
  public record Command(
      List<String> argv,
      Map<String, String> env,
      @Nullable Path cwd,
      byte[] stdin,
      Duration timeout,
      int outputLimit,
      Consumer<Process> onTimeout) {

    /** Copies and validates. */
    public Command {
      argv = List.copyOf(argv);
      env = Map.copyOf(env);
      Objects.requireNonNull(stdin, "stdin");
      Objects.requireNonNull(timeout, "timeout");
      Objects.requireNonNull(onTimeout, "onTimeout");
      if (argv.isEmpty()) {
        throw new IllegalArgumentException("argv must not be empty");
      }
    }

    /** Builder for {@link Command}. */
    public static final class Builder {
      private final List<String> argv;
      private Map<String, String> env =
          Map.of("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
      private @Nullable Path cwd;
      private byte[] stdin = new byte[0];
      private Duration timeout = Duration.ofSeconds(30);
      private int outputLimit = 1024 * 1024;
      private Consumer<Process> onTimeout = Exec::killTree;

      private Builder(List<String> argv) {
        this.argv = argv;
      }

      /** Sets the complete environment. */
      public Builder env(Map<String, String> env) {
        this.env = env;
        return this;
      }

      /** Sets the working directory. */
      public Builder cwd(Path cwd) {
        this.cwd = cwd;
        return this;
      }

      /** Sets standard input. */
      public Builder stdin(byte[] stdin) {
        this.stdin = stdin;
        return this;
      }

      /** Sets the wall-clock limit. */
      public Builder timeout(Duration timeout) {
        this.timeout = timeout;
        return this;
      }

      /** Sets the bytes kept per stream. */
      public Builder outputLimit(int bytes) {
        this.outputLimit = bytes;
        return this;
      }

      /** Sets how the process tree is killed. */
      public Builder onTimeout(Consumer<Process> killer) {
        this.onTimeout = killer;
        return this;
      }

      /** Builds the command. */
      public Command build() {
        return new Command(argv, env, cwd, stdin, timeout, outputLimit, onTimeout);
      }
    }
  }

  /**
   * Captured output of one stream.
   *
   * @param bytes the first {@code outputLimit} bytes
   * @param truncated whether more was written (and discarded)
   * @param total bytes written in all
   */
  // Byte arrays rather than immutable copies: outputs reach megabytes and are never shared.
  @SuppressWarnings("ArrayRecordComponent")
  public record Captured(byte[] bytes, boolean truncated, long total) {}

  /**
   * How a command ended.
   *
   * @param exitValue the JVM's exit value (128+N for a signal death on Linux)
   * @param timedOut whether the timeout killed it
   * @param killed whether {@link Running#kill} killed it
   * @param stdout standard output
   * @param stderr standard error
   * @param duration wall-clock time from spawn to exit
   */
  public record Result(
      int exitValue,
      boolean timedOut,
      boolean killed,
      Captured stdout,
      Captured stderr,
      Duration duration) {

    /** Standard output as UTF-8 text. */
    public String stdoutText() {
      return new String(stdout.bytes(), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Standard error as UTF-8 text. */
    public String stderrText() {
      return new String(stderr.bytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  /** Runs a command to completion or timeout. */
  public static Result run(Command command) {
    return start(command).await();
  }

  /**
   * Starts a command whose input has not arrived yet: its standard input is a pipe left open and
   * empty, and its clock does not run, until {@link Running#go}. For a process that prepares itself
   * ahead of time (spawn, join cgroups) and then waits for its real input on stdin.
   *
   * @throws KavachException with {@link Reason#LAUNCH_FAILED} if the program cannot be started
   */
  public static Running prepare(Command command) {
    return start(command, true);
  }

  /**
   * Starts a command.
   *
   * @throws KavachException with {@link Reason#LAUNCH_FAILED} if the program cannot be started
   */
  public static Running start(Command command) {
    return start(command, false);
  }

  private static Running start(Command command, boolean deferred) {
    ProcessBuilder pb = new ProcessBuilder(command.argv());
    pb.environment().clear();
    pb.environment().putAll(command.env());
    if (command.cwd() != null) {
      pb.directory(command.cwd().toFile());
    }
    if (command.stdin().length == 0 && !deferred) {
      pb.redirectInput(new File("/dev/null"));
    }
    long startNanos = System.nanoTime();
    Process process;
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new KavachException(
          Reason.LAUNCH_FAILED, "cannot start " + command.argv().get(0) + ": " + e.getMessage(), e);
    }
    return new Running(command, process, startNanos, deferred);
  }

  /** Kills a process and every descendant with SIGKILL, children first. */
  public static void killTree(Process process) {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
  }

  /** A started command. */
  public static final class Running {
    private final Command command;
    private final Process process;
    private volatile long startNanos;
    private final Reader out;
    private final Reader err;
    private volatile boolean killed;
    private volatile boolean deferred;
    private volatile Duration timeout;

    private Running(Command command, Process process, long startNanos, boolean deferred) {
      this.command = command;
      this.process = process;
      this.startNanos = startNanos;
      this.deferred = deferred;
      this.out =
          new Reader(process.getInputStream(), command.outputLimit(), "stdout", process.pid());
      this.err =
          new Reader(process.getErrorStream(), command.outputLimit(), "stderr", process.pid());
      this.timeout = command.timeout();
      if (!deferred) {
        feed(new byte[0], command.stdin());
      }
    }

    /**
     * Starts a {@link Exec#prepare prepared} command: its clock starts now with this timeout, and
     * {@code header} followed by {@code stdin} is written to its standard input, which is then
     * closed. The command's own stdin and timeout are not used.
     *
     * @throws IllegalStateException if the command was not prepared or already went
     */
    public void go(byte[] header, byte[] stdin, Duration timeout) {
      if (!deferred) {
        throw new IllegalStateException("not a prepared command, or already started");
      }
      deferred = false;
      this.timeout = Objects.requireNonNull(timeout, "timeout");
      startNanos = System.nanoTime();
      feed(header, stdin);
    }

    private void feed(byte[] header, byte[] stdin) {
      if (header.length + stdin.length == 0) {
        closeQuietly(process.getOutputStream());
        return;
      }
      Thread writer =
          new Thread(
              () -> {
                OutputStream os = process.getOutputStream();
                if (header.length == 0) {
                  writeStdin(os, stdin);
                  return;
                }
                // One write of header and input together; the copy may hold a secret (stdin
                // injection), so it is wiped once written.
                byte[] all = new byte[header.length + stdin.length];
                System.arraycopy(header, 0, all, 0, header.length);
                System.arraycopy(stdin, 0, all, header.length, stdin.length);
                try {
                  writeStdin(os, all);
                } finally {
                  java.util.Arrays.fill(all, (byte) 0);
                }
              },
              "kavach-stdin-" + process.pid());
      writer.setDaemon(true);
      writer.start();
    }

    /** The process. */
    public Process process() {
      return process;
    }

    /** Kills the process tree now; {@link #await} then reports {@code killed}. */
    public void kill() {
      killed = true;
      command.onTimeout().accept(process);
    }

    /**
     * Waits for the command to end (or the timeout to kill it) and returns its result.
     *
     * @throws IllegalStateException for a prepared command that has not gone yet
     */
    public Result await() {
      if (deferred) {
        throw new IllegalStateException("a prepared command must go before it is awaited");
      }
      boolean timedOut = false;
      try {
        long deadline = startNanos + timeout.toNanos();
        if (!process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
          timedOut = true;
          command.onTimeout().accept(process);
          process.waitFor();
        }
      } catch (InterruptedException e) {
        command.onTimeout().accept(process);
        Thread.currentThread().interrupt();
        throw new KavachException(
            Reason.IO, "interrupted while waiting for " + command.argv().get(0), e);
      }
      Duration duration = Duration.ofNanos(System.nanoTime() - startNanos);
      Captured o = out.finish();
      Captured e = err.finish();
      return new Result(process.exitValue(), timedOut, killed, o, e, duration);
    }

    private static void writeStdin(OutputStream os, byte[] data) {
      try (os) {
        os.write(data);
      } catch (IOException e) {
        // The command closed its standard input early (EPIPE); that is its right.
      }
    }
  }

  /** Drains one stream on its own thread, keeping the first {@code limit} bytes. */
  private static final class Reader implements Runnable {
    private final InputStream in;
    private final int limit;
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
    private final Thread thread;
    private long total;

    Reader(InputStream in, int limit, String name, long pid) {
      this.in = in;
      this.limit = limit;
      this.thread = new Thread(this, "kavach-" + name + "-" + pid);
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public void run() {
      byte[] buf = new byte[CHUNK];
      try (in) {
        int n;
        while ((n = in.read(buf)) >= 0) {
          synchronized (this) {
            int room = (int) Math.max(0, Math.min(n, limit - total));
            if (room > 0) {
              kept.write(buf, 0, room);
            }
            total += n;
          }
        }
      } catch (IOException e) {
        // The stream was closed under us; what was read so far is kept.
      }
    }

    Captured finish() {
      try {
        thread.join(READER_GRACE.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      synchronized (this) {
        return new Captured(kept.toByteArray(), total > limit, total);
      }
    }
  }

  private static void closeQuietly(OutputStream os) {
    try {
      os.close();
    } catch (IOException e) {
      // Nothing to release.
    }
  }
}
