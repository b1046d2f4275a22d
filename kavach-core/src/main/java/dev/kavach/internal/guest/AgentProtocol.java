package dev.kavach.internal.guest;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The wire format between the host and kavach-agent, specified in {@code docs/agent-protocol.md}
 * and implemented on the guest side by {@code native/agent/frame.h}. A frame is a type byte, a
 * 4-byte big-endian length and that many payload bytes. Everything read from the guest is bounded:
 * the guest is untrusted.
 */
public final class AgentProtocol {
  /** Protocol version carried in every request. */
  public static final int VERSION = 1;

  /** The vsock port the agent listens on unless {@code kavach.port=} says otherwise. */
  public static final int DEFAULT_PORT = 5005;

  /** Largest request payload (argv, env, cwd). */
  public static final int MAX_REQUEST = 1 << 20;

  /** Largest stdin, stdout or stderr chunk. */
  public static final int MAX_CHUNK = 64 * 1024;

  /** The kernel's limit on a classic BPF program (BPF_MAXINSNS). */
  public static final int MAX_BPF_INSTRUCTIONS = 4096;

  /** Largest argv or env list. */
  public static final int MAX_STRINGS = 65536;

  /** Host to agent: the exec request, always the first frame. */
  public static final byte REQUEST = 'Q';

  /** Host to agent: a chunk of the command's standard input. */
  public static final byte STDIN = 'I';

  /** Host to agent: end of standard input. */
  public static final byte STDIN_CLOSE = 'C';

  /** Host to agent: kill the command's whole tree now. */
  public static final byte KILL = 'K';

  /** Either way: liveness check, answered with the agent's version. */
  public static final byte PING = 'P';

  /** Agent to host: a chunk of standard output. */
  public static final byte STDOUT = 'O';

  /** Agent to host: a chunk of standard error. */
  public static final byte STDERR = 'E';

  /** Agent to host: how the command ended; the last frame. */
  public static final byte EXIT = 'X';

  /** Agent to host: the command could not be started; the last frame. */
  public static final byte ERROR = 'F';

  private static final int REQ_FLAG_STDIN = 1;
  private static final int HEADER = 5;

  private AgentProtocol() {}

  /**
   * One frame.
   *
   * @param type the frame type
   * @param payload its payload
   */
  // Byte arrays rather than immutable copies: chunks are handed on, never shared.
  @SuppressWarnings("ArrayRecordComponent")
  public record Frame(byte type, byte[] payload) {}

  /**
   * The exit frame.
   *
   * @param code exit status, 128+N for a death by signal N
   * @param signal the signal that killed the command, 0 if none
   * @param timedOut whether the agent's timer killed it
   * @param killed whether a kill frame (or the agent's shutdown) killed it
   * @param stdoutTruncated whether standard output passed the limit
   * @param stderrTruncated whether standard error passed the limit
   */
  public record Exit(
      int code,
      int signal,
      boolean timedOut,
      boolean killed,
      boolean stdoutTruncated,
      boolean stderrTruncated) {

    /** Parses an exit frame's payload. */
    public static Exit parse(byte[] p) throws IOException {
      if (p.length != 12) {
        throw new IOException("agent sent an exit frame of " + p.length + " bytes, expected 12");
      }
      ByteBuffer b = ByteBuffer.wrap(p);
      return new Exit(
          b.getInt(), b.getInt(), b.get() != 0, b.get() != 0, b.get() != 0, b.get() != 0);
    }
  }

  /**
   * The error frame: a step of starting the command failed.
   *
   * @param errno the errno value
   * @param step the step ({@code execve}, {@code chdir}, {@code request}, ...)
   */
  public record Failure(int errno, String step) {

    /** Parses an error frame's payload. */
    public static Failure parse(byte[] p) throws IOException {
      if (p.length < 4) {
        throw new IOException("agent sent an error frame of " + p.length + " bytes");
      }
      int errno = ByteBuffer.wrap(p).getInt();
      return new Failure(errno, new String(p, 4, p.length - 4, StandardCharsets.UTF_8));
    }

    /** The errno's symbolic name where it is a common one. */
    public String errnoName() {
      return switch (errno) {
        case 1 -> "EPERM";
        case 2 -> "ENOENT";
        case 7 -> "E2BIG";
        case 8 -> "ENOEXEC";
        case 11 -> "EAGAIN";
        case 12 -> "ENOMEM";
        case 13 -> "EACCES";
        case 20 -> "ENOTDIR";
        case 22 -> "EINVAL";
        case 71 -> "EPROTO";
        default -> "errno " + errno;
      };
    }
  }

  /**
   * Encodes a request payload.
   *
   * @param cwd working directory in the guest; empty for the agent's default ({@code /workspace}
   *     when it exists)
   * @param withStdin whether stdin frames follow (otherwise the command reads {@code /dev/null})
   * @param seccompBpf a classic BPF program (8 bytes per instruction) the agent installs, with
   *     no_new_privs, in the command's process right before execve; empty for none
   * @throws IllegalArgumentException if a string holds a NUL byte, an env name is empty or holds
   *     {@code =}, the filter is not whole instructions or passes 4096 of them, or the request
   *     passes {@link #MAX_REQUEST}
   */
  public static byte[] encodeRequest(
      List<String> argv,
      Map<String, String> env,
      String cwd,
      Duration timeout,
      int outputLimit,
      boolean withStdin,
      byte[] seccompBpf) {
    if (argv.isEmpty() || argv.size() > MAX_STRINGS || env.size() > MAX_STRINGS) {
      throw new IllegalArgumentException("argv must have 1 to " + MAX_STRINGS + " entries");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long ms = timeout.toMillis();
    writeInt(out, VERSION);
    // 0 means no timeout to the agent; a positive timeout below 1 ms still has one.
    writeInt(out, (int) Math.min(0xffff_fffeL, Math.max(1, ms)));
    writeInt(out, outputLimit);
    writeInt(out, withStdin ? REQ_FLAG_STDIN : 0);
    writeString(out, "cwd", cwd);
    writeInt(out, argv.size());
    for (int i = 0; i < argv.size(); i++) {
      writeString(out, "argv[" + i + "]", argv.get(i));
    }
    writeInt(out, env.size());
    for (Map.Entry<String, String> e : env.entrySet()) {
      if (e.getKey().isEmpty() || e.getKey().indexOf('=') >= 0) {
        throw new IllegalArgumentException(
            "environment name (" + e.getKey() + ") must be non-empty without '='");
      }
      writeString(out, "env " + e.getKey(), e.getKey() + "=" + e.getValue());
    }
    if (seccompBpf.length > 0) {
      if (seccompBpf.length % 8 != 0 || seccompBpf.length / 8 > MAX_BPF_INSTRUCTIONS) {
        throw new IllegalArgumentException(
            "seccomp filter of " + seccompBpf.length + " bytes is not 1 to 4096 instructions");
      }
      writeInt(out, seccompBpf.length);
      out.writeBytes(seccompBpf);
    }
    if (out.size() > MAX_REQUEST) {
      throw new IllegalArgumentException(
          "request of " + out.size() + " bytes passes the agent's limit of " + MAX_REQUEST);
    }
    return out.toByteArray();
  }

  private static void writeInt(ByteArrayOutputStream out, int v) {
    out.write(v >>> 24);
    out.write(v >>> 16);
    out.write(v >>> 8);
    out.write(v);
  }

  private static void writeString(ByteArrayOutputStream out, String what, String s) {
    if (s.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(what + " contains a NUL byte");
    }
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    writeInt(out, b.length);
    out.writeBytes(b);
  }

  /** Writes one frame, all of it. */
  public static void write(WritableByteChannel ch, byte type, byte[] p, int off, int len)
      throws IOException {
    ByteBuffer header = ByteBuffer.allocate(HEADER).put(type).putInt(len).flip();
    ByteBuffer body = ByteBuffer.wrap(p, off, len);
    while (header.hasRemaining()) {
      ch.write(header);
    }
    while (body.hasRemaining()) {
      ch.write(body);
    }
  }

  /**
   * Reads one frame, or null at a clean end of stream before a header.
   *
   * @param maxPayload the largest payload accepted; a larger one is a protocol error
   * @throws IOException on a protocol error or a stream that ends inside a frame
   */
  public static @Nullable Frame read(ReadableByteChannel ch, int maxPayload) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(HEADER);
    if (!fill(ch, header, true)) {
      return null;
    }
    byte type = header.get(0);
    int len = header.getInt(1);
    if (len < 0 || len > maxPayload) {
      throw new IOException(
          "agent sent a frame '"
              + (char) type
              + "' of "
              + Integer.toUnsignedString(len)
              + " bytes");
    }
    ByteBuffer body = ByteBuffer.allocate(len);
    fill(ch, body, false);
    return new Frame(type, body.array());
  }

  private static boolean fill(ReadableByteChannel ch, ByteBuffer b, boolean eofAllowedAtStart)
      throws IOException {
    while (b.hasRemaining()) {
      int n = ch.read(b);
      if (n < 0) {
        if (eofAllowedAtStart && b.position() == 0) {
          return false;
        }
        throw new EOFException("agent connection ended inside a frame");
      }
    }
    return true;
  }
}
