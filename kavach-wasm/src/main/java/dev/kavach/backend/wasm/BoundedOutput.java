package dev.kavach.backend.wasm;

import java.io.OutputStream;
import java.util.Arrays;
import java.util.function.BooleanSupplier;

/**
 * One captured output stream: keeps the first {@code limit} bytes and counts the rest, so a module
 * that writes more never blocks and never fails its write. Once its exec is being killed, a write
 * aborts the module instead, so an output loop stops at its next write.
 */
final class BoundedOutput extends OutputStream {
  private final int limit;
  private final BooleanSupplier killed;
  private byte[] buf = new byte[256];
  private int size;
  private long total;

  BoundedOutput(int limit, BooleanSupplier killed) {
    this.limit = limit;
    this.killed = killed;
  }

  @Override
  public void write(int b) {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) {
    if (killed.getAsBoolean()) {
      throw new WasmBackend.Killed();
    }
    total += len;
    int keep = Math.min(len, limit - size);
    if (keep <= 0) {
      return;
    }
    if (size + keep > buf.length) {
      buf = Arrays.copyOf(buf, Math.min(limit, Math.max(size + keep, buf.length * 2)));
    }
    System.arraycopy(b, off, buf, size, keep);
    size += keep;
  }

  /** Appends a diagnostic from the backend itself, within the same limit. */
  synchronized void note(String line) {
    byte[] b = line.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    total += b.length;
    int keep = Math.min(b.length, limit - size);
    if (keep > 0) {
      buf = Arrays.copyOf(buf, Math.max(buf.length, size + keep));
      System.arraycopy(b, 0, buf, size, keep);
      size += keep;
    }
  }

  /** The kept bytes. */
  synchronized byte[] bytes() {
    return Arrays.copyOf(buf, size);
  }

  /** Whether more was written than kept. */
  synchronized boolean truncated() {
    return total > size;
  }
}
