package dev.kavach.egress;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;

/**
 * TLS over a {@link Stream}, driven by an {@link SSLEngine}. The JDK's {@code SSLSocket} can only
 * layer over a {@code java.net.Socket}, and the sandbox side of the proxy is a Unix domain socket
 * channel, so the proxy drives the engine itself.
 *
 * <p>Reads and writes hold separate locks (an engine's {@code wrap} and {@code unwrap} may run
 * concurrently), so a tunnel can read on one thread and write on another.
 */
final class TlsStream implements Stream {
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

  private final Stream raw;
  private final SSLEngine engine;
  private final Object readLock = new Object();
  private final Object writeLock = new Object();

  // Guarded by readLock. netIn is in write mode (position = bytes held); appIn in read mode.
  private ByteBuffer netIn;
  private ByteBuffer appIn;
  private boolean eof;

  // Guarded by writeLock.
  private ByteBuffer netOut;

  TlsStream(Stream raw, SSLEngine engine) {
    this.raw = raw;
    this.engine = engine;
    int packet = engine.getSession().getPacketBufferSize();
    this.netIn = ByteBuffer.allocate(packet);
    this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
    this.appIn.flip();
    this.netOut = ByteBuffer.allocate(packet);
  }

  /** Runs the handshake to completion; call before any other use. */
  void handshake() throws IOException {
    synchronized (readLock) {
      synchronized (writeLock) {
        engine.beginHandshake();
        while (true) {
          switch (engine.getHandshakeStatus()) {
            case NEED_WRAP -> wrapAndSend(EMPTY);
            case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
              if (!unwrapSome()) {
                throw new EOFException("peer closed the connection during the TLS handshake");
              }
            }
            case NEED_TASK -> runTasks();
            case FINISHED, NOT_HANDSHAKING -> {
              return;
            }
          }
        }
      }
    }
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    synchronized (readLock) {
      while (!appIn.hasRemaining()) {
        if (eof || !unwrapSome()) {
          eof = true;
          return -1;
        }
      }
      int n = Math.min(len, appIn.remaining());
      appIn.get(b, off, n);
      return n;
    }
  }

  /**
   * Unwraps one record into {@code appIn}, reading from the raw stream when a record is incomplete.
   * Returns false at the end of the raw stream or on the peer's close_notify.
   */
  private boolean unwrapSome() throws IOException {
    while (true) {
      netIn.flip();
      appIn.compact();
      SSLEngineResult r;
      try {
        r = engine.unwrap(netIn, appIn);
      } finally {
        netIn.compact();
        appIn.flip();
      }
      switch (r.getStatus()) {
        case OK -> {
          afterEngineCall(r);
          return true;
        }
        case CLOSED -> {
          return false;
        }
        case BUFFER_OVERFLOW -> appIn = grow(appIn, engine.getSession().getApplicationBufferSize());
        case BUFFER_UNDERFLOW -> {
          if (!netIn.hasRemaining()) {
            netIn = growWriteMode(netIn, engine.getSession().getPacketBufferSize());
          }
          int n = raw.read(netIn.array(), netIn.position(), netIn.remaining());
          if (n < 0) {
            return false;
          }
          netIn.position(netIn.position() + n);
        }
      }
    }
  }

  // After the handshake the engine may still need to send (TLS 1.3 session tickets, key updates).
  private void afterEngineCall(SSLEngineResult r) throws IOException {
    SSLEngineResult.HandshakeStatus hs = r.getHandshakeStatus();
    if (hs == SSLEngineResult.HandshakeStatus.NEED_TASK) {
      runTasks();
      hs = engine.getHandshakeStatus();
    }
    if (hs == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
      synchronized (writeLock) {
        while (engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
          wrapAndSend(EMPTY);
        }
      }
    }
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    synchronized (writeLock) {
      ByteBuffer src = ByteBuffer.wrap(b, off, len);
      while (src.hasRemaining()) {
        wrapAndSend(src);
      }
    }
  }

  private void wrapAndSend(ByteBuffer src) throws IOException {
    while (true) {
      netOut.clear();
      SSLEngineResult r = engine.wrap(src, netOut);
      switch (r.getStatus()) {
        case BUFFER_OVERFLOW -> {
          netOut = ByteBuffer.allocate(netOut.capacity() * 2);
          continue;
        }
        case CLOSED -> {
          if (netOut.position() == 0) {
            throw new SSLException("TLS connection already closed");
          }
        }
        default -> {}
      }
      netOut.flip();
      raw.write(netOut.array(), 0, netOut.limit());
      if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
        runTasks();
      }
      return;
    }
  }

  private void runTasks() {
    Runnable task;
    while ((task = engine.getDelegatedTask()) != null) {
      task.run();
    }
  }

  @Override
  public void shutdownOutput() throws IOException {
    synchronized (writeLock) {
      sendCloseNotify();
    }
    raw.shutdownOutput();
  }

  private void sendCloseNotify() throws IOException {
    engine.closeOutbound();
    while (!engine.isOutboundDone()) {
      wrapAndSend(EMPTY);
    }
  }

  @Override
  public void close() {
    // Best effort close_notify, without waiting for the write lock a blocked writer may hold.
    raw.close();
  }

  private static ByteBuffer grow(ByteBuffer readMode, int atLeast) {
    ByteBuffer bigger = ByteBuffer.allocate(Math.max(atLeast, readMode.capacity() * 2));
    bigger.put(readMode);
    bigger.flip();
    return bigger;
  }

  private static ByteBuffer growWriteMode(ByteBuffer writeMode, int atLeast) {
    ByteBuffer bigger = ByteBuffer.allocate(Math.max(atLeast, writeMode.capacity() * 2));
    writeMode.flip();
    bigger.put(writeMode);
    return bigger;
  }
}
