package dev.kavach.egress;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * One side of a proxied connection: blocking reads and writes that another thread may interrupt by
 * closing. Reads and writes may run concurrently on two threads (one each).
 */
interface Stream extends AutoCloseable {

  /** Reads up to {@code len} bytes; -1 at end of stream. */
  int read(byte[] b, int off, int len) throws IOException;

  /** Writes all bytes. */
  void write(byte[] b, int off, int len) throws IOException;

  /** Ends the output direction (half close); the input stays open. */
  void shutdownOutput() throws IOException;

  /** Closes both directions; never throws. Unblocks a thread blocked in read or write. */
  @Override
  void close();

  /** Writes all bytes. */
  default void write(byte[] b) throws IOException {
    write(b, 0, b.length);
  }

  /**
   * A socket channel (Unix domain or TCP). Channel reads and writes take separate locks, so one
   * thread may read while another writes; the stream adapters of {@link java.nio.channels.Channels}
   * would serialise them on the channel's blocking lock and deadlock a tunnel.
   */
  static Stream of(SocketChannel channel) {
    return new Stream() {
      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        return channel.read(ByteBuffer.wrap(b, off, len));
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(b, off, len);
        while (buf.hasRemaining()) {
          channel.write(buf);
        }
      }

      @Override
      public void shutdownOutput() throws IOException {
        channel.shutdownOutput();
      }

      @Override
      public void close() {
        try {
          channel.close();
        } catch (IOException e) {
          // Closing is best effort; the channel is unusable either way.
        }
      }
    };
  }

  /** A connected socket, plain or TLS. */
  static Stream of(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    OutputStream out = socket.getOutputStream();
    return new Stream() {
      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        return in.read(b, off, len);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        out.flush();
      }

      @Override
      public void shutdownOutput() throws IOException {
        if (socket instanceof javax.net.ssl.SSLSocket) {
          // TLS sockets cannot half-close; the peer sees the end when the tunnel closes.
          return;
        }
        socket.shutdownOutput();
      }

      @Override
      public void close() {
        try {
          socket.close();
        } catch (IOException e) {
          // Closing is best effort.
        }
      }
    };
  }
}
