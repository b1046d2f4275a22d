package dev.kavach.audit;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.Objects;
import javax.crypto.Mac;
import org.jspecify.annotations.Nullable;

/**
 * An {@link AuditSink} that appends to a tamper-evident HMAC chain (format in {@link AuditChain}).
 *
 * <p>Opening verifies the existing file first and continues its chain; a broken file is refused
 * rather than extended. Several processes may append to the same file: each append takes an
 * exclusive lock on it, verifies whatever other writers appended since, and chains onto it. (Use
 * one sink per file within a JVM; file locks are per process.) Lines reach the operating system
 * before {@link #record} returns; {@link #close()} forces them to disk.
 *
 * <pre>{@code
 * try (ChainedAuditSink sink = AuditSink.chained(Path.of("audit.jsonl"), AuditKey.fromEnvironment())) {
 *   SandboxConfig config = SandboxConfig.builder().auditSink(sink).build();
 *   ...
 *   storeSomewhereSafe(sink.head());   // detects a truncated tail later
 * }
 * }</pre>
 */
public final class ChainedAuditSink implements AuditSink {
  private final Path file;
  private final FileChannel channel;
  private final Mac mac;
  private final Clock clock;
  private AuditChain.Head head;
  private long size;

  private ChainedAuditSink(
      Path file, AuditKey key, Clock clock, AuditChain.@Nullable Head expected) {
    this.file = file;
    this.clock = clock;
    this.mac = key.newMac();
    try {
      // Continuing an existing chain is the normal case; it is verified below.
      JsonLinesAuditSink.createPrivate(file);
      this.channel =
          FileChannel.open(
              file, StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot open audit log " + file + ": " + e, e);
    }
    try {
      FileLock lock = channel.lock();
      try {
        byte[] all = readFrom(0);
        // Verified from bytes read through this channel: opening the file a second time and
        // closing it would release this process's lock (POSIX record locks are per process).
        AuditChain.Verification v = AuditChain.verify(all, expected, mac);
        if (!v.intact()) {
          throw refuse(v);
        }
        this.head = v.head();
        this.size = all.length;
      } finally {
        lock.release();
      }
    } catch (IOException e) {
      closeQuietly();
      throw new KavachException(Reason.IO, "cannot read audit log " + file + ": " + e, e);
    } catch (RuntimeException e) {
      closeQuietly();
      throw e;
    }
  }

  /**
   * Opens (creating, mode 0600) the chain in {@code file}, verifying what is there.
   *
   * @throws KavachException with reason {@code IO} if the file cannot be used or its chain is
   *     broken (the message names the first broken line)
   */
  public static ChainedAuditSink open(Path file, AuditKey key) {
    return open(file, key, Clock.systemUTC(), null);
  }

  /**
   * As {@link #open(Path, AuditKey)}, timestamping with {@code clock} and, with {@code expected},
   * also refusing a file whose chain no longer reaches that head.
   */
  public static ChainedAuditSink open(
      Path file, AuditKey key, Clock clock, AuditChain.@Nullable Head expected) {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(clock, "clock");
    return new ChainedAuditSink(file, key, clock, expected);
  }

  /** The last line's serial and MAC, to store where the log's writer cannot change it. */
  public synchronized AuditChain.Head head() {
    return head;
  }

  /** The file this sink appends to. */
  public Path file() {
    return file;
  }

  @Override
  public synchronized void record(AuditEvent event) {
    try {
      FileLock lock = channel.lock();
      try {
        append(event);
      } finally {
        lock.release();
      }
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot write audit log " + file + ": " + e, e);
    }
  }

  private void append(AuditEvent event) throws IOException {
    long now = channel.size();
    if (now < size) {
      throw new KavachException(
          Reason.IO, "audit log " + file + " shrank from " + size + " to " + now + " bytes");
    }
    if (now > size) {
      // Another process appended: check its lines and chain onto them.
      byte[] all = readFrom(0);
      AuditChain.Verification v = AuditChain.verify(all, (int) size, head, mac);
      if (!v.intact()) {
        throw refuse(v);
      }
      head = v.head();
      size = all.length;
    }
    long serial = head.serial() + 1;
    byte[] line = AuditChain.line(serial, clock.instant(), event, head.mac(), mac);
    // At the end as read under the lock: every writer of the chain holds the lock to append.
    ByteBuffer buf = ByteBuffer.wrap(line);
    long pos = size;
    while (buf.hasRemaining()) {
      pos += channel.write(buf, pos);
    }
    head = new AuditChain.Head(serial, AuditChain.macOf(line));
    size += line.length;
  }

  private byte[] readFrom(long from) throws IOException {
    long total = channel.size();
    if (total > Integer.MAX_VALUE - 8) {
      throw new IOException("audit log larger than 2 GiB; rotate it");
    }
    ByteBuffer buf = ByteBuffer.allocate((int) (total - from));
    long pos = from;
    while (buf.hasRemaining()) {
      int n = channel.read(buf, pos);
      if (n < 0) {
        break;
      }
      pos += n;
    }
    return buf.array();
  }

  private KavachException refuse(AuditChain.Verification v) {
    return new KavachException(
        Reason.IO,
        "audit log "
            + file
            + " is broken at line "
            + v.brokenLine()
            + " ("
            + v.problem()
            + "); refusing to append");
  }

  @Override
  public synchronized void close() {
    try {
      if (channel.isOpen()) {
        channel.force(true);
        channel.close();
      }
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot close audit log " + file + ": " + e, e);
    }
  }

  private void closeQuietly() {
    try {
      channel.close();
    } catch (IOException e) {
      // Opening failed already; that error is the one to report.
    }
  }

  @Override
  public String toString() {
    return "ChainedAuditSink[" + file + ", head serial " + head.serial() + "]";
  }
}
