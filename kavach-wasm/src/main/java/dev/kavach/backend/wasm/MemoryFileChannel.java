package dev.kavach.backend.wasm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * A read-only {@link FileChannel} over bytes in memory: how the guest reads a secret file that
 * never exists on any disk. Writes fail with {@link NonWritableChannelException}, which Chicory
 * reports to the guest as {@code ENOTCAPABLE}.
 */
final class MemoryFileChannel extends FileChannel {
  private final byte[] content;
  private long position;

  MemoryFileChannel(byte[] content) {
    this.content = content;
  }

  @Override
  public synchronized int read(ByteBuffer dst) throws IOException {
    int n = read(dst, position);
    if (n > 0) {
      position += n;
    }
    return n;
  }

  @Override
  public synchronized long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
    long total = 0;
    for (int i = offset; i < offset + length; i++) {
      int n = read(dsts[i]);
      if (n < 0) {
        return total == 0 ? -1 : total;
      }
      total += n;
      if (dsts[i].hasRemaining()) {
        break;
      }
    }
    return total;
  }

  @Override
  public int read(ByteBuffer dst, long at) throws IOException {
    ensureOpen();
    if (at >= content.length) {
      return -1;
    }
    int n = (int) Math.min(dst.remaining(), content.length - at);
    dst.put(content, (int) at, n);
    return n;
  }

  @Override
  public int write(ByteBuffer src) {
    throw new NonWritableChannelException();
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) {
    throw new NonWritableChannelException();
  }

  @Override
  public int write(ByteBuffer src, long at) {
    throw new NonWritableChannelException();
  }

  @Override
  public synchronized long position() throws IOException {
    ensureOpen();
    return position;
  }

  @Override
  public synchronized FileChannel position(long newPosition) throws IOException {
    ensureOpen();
    if (newPosition < 0) {
      throw new IllegalArgumentException("negative position");
    }
    position = newPosition;
    return this;
  }

  @Override
  public long size() throws IOException {
    ensureOpen();
    return content.length;
  }

  @Override
  public FileChannel truncate(long size) {
    throw new NonWritableChannelException();
  }

  @Override
  public void force(boolean metaData) {}

  @Override
  public long transferTo(long at, long count, WritableByteChannel target) throws IOException {
    ensureOpen();
    if (at >= content.length) {
      return 0;
    }
    int n = (int) Math.min(count, content.length - at);
    return target.write(ByteBuffer.wrap(content, (int) at, n));
  }

  @Override
  public long transferFrom(ReadableByteChannel src, long at, long count) {
    throw new NonWritableChannelException();
  }

  @Override
  public MappedByteBuffer map(MapMode mode, long at, long size) throws IOException {
    throw new IOException("in-memory files cannot be mapped");
  }

  @Override
  public FileLock lock(long at, long size, boolean shared) throws IOException {
    throw new IOException("in-memory files cannot be locked");
  }

  @Override
  public FileLock tryLock(long at, long size, boolean shared) throws IOException {
    throw new IOException("in-memory files cannot be locked");
  }

  @Override
  protected void implCloseChannel() {}

  private void ensureOpen() throws IOException {
    if (!isOpen()) {
      throw new java.nio.channels.ClosedChannelException();
    }
  }
}
