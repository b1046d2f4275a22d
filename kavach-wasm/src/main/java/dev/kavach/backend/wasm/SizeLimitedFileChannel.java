package dev.kavach.backend.wasm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.FileSystemException;

/**
 * A writable host file of the guest that may not grow past {@code max_file_size_mb}, as
 * RLIMIT_FSIZE does for a process: a write that crosses the limit writes up to it, the next one
 * fails (the guest sees an error where a process would get SIGXFSZ and EFBIG).
 */
final class SizeLimitedFileChannel extends FileChannel {
  private final FileChannel file;
  private final long limit;
  private final String path;

  SizeLimitedFileChannel(FileChannel file, long limit, String path) {
    this.file = file;
    this.limit = limit;
    this.path = path;
  }

  /** How many of {@code wanted} bytes may be written at {@code at}; throws when none may. */
  private int room(long at, int wanted) throws IOException {
    if (wanted == 0) {
      return 0;
    }
    if (at >= limit) {
      throw new FileSystemException(path, null, "File too large (max_file_size_mb)");
    }
    return (int) Math.min(wanted, limit - at);
  }

  private static ByteBuffer head(ByteBuffer src, int n) {
    ByteBuffer b = src.slice();
    b.limit(n);
    return b;
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    int n = room(file.position(), src.remaining());
    if (n == src.remaining()) {
      return file.write(src);
    }
    int written = file.write(head(src, n));
    src.position(src.position() + written);
    return written;
  }

  @Override
  public int write(ByteBuffer src, long position) throws IOException {
    int n = room(position, src.remaining());
    if (n == src.remaining()) {
      return file.write(src, position);
    }
    int written = file.write(head(src, n), position);
    src.position(src.position() + written);
    return written;
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    long total = 0;
    for (int i = offset; i < offset + length; i++) {
      if (!srcs[i].hasRemaining()) {
        continue;
      }
      if (total > 0 && file.position() >= limit) {
        break; // a partial write, as write(2) reports before the next call fails
      }
      int before = srcs[i].remaining();
      int written = write(srcs[i]);
      total += written;
      if (written < before) {
        break;
      }
    }
    return total;
  }

  @Override
  public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
    if (count == 0) {
      return 0;
    }
    return file.transferFrom(src, position, room(position, (int) Math.min(count, 1 << 30)));
  }

  @Override
  public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
    if (mode != MapMode.READ_ONLY && position + size > limit) {
      throw new FileSystemException(path, null, "File too large (max_file_size_mb)");
    }
    return file.map(mode, position, size);
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    return file.read(dst);
  }

  @Override
  public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
    return file.read(dsts, offset, length);
  }

  @Override
  public int read(ByteBuffer dst, long position) throws IOException {
    return file.read(dst, position);
  }

  @Override
  public long position() throws IOException {
    return file.position();
  }

  @Override
  public FileChannel position(long newPosition) throws IOException {
    file.position(newPosition);
    return this;
  }

  @Override
  public long size() throws IOException {
    return file.size();
  }

  @Override
  public FileChannel truncate(long size) throws IOException {
    file.truncate(size);
    return this;
  }

  @Override
  public void force(boolean metaData) throws IOException {
    file.force(metaData);
  }

  @Override
  public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
    return file.transferTo(position, count, target);
  }

  @Override
  public FileLock lock(long position, long size, boolean shared) throws IOException {
    return file.lock(position, size, shared);
  }

  @Override
  public FileLock tryLock(long position, long size, boolean shared) throws IOException {
    return file.tryLock(position, size, shared);
  }

  @Override
  protected void implCloseChannel() throws IOException {
    file.close();
  }
}
