package dev.kavach.internal.guest;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Host side of Firecracker's vsock device: the guest's vsock ports are reached through one Unix
 * socket on the host ({@code uds_path}). A connection sends {@code CONNECT <port>\n} and, if
 * something listens on that port in the guest, reads {@code OK <host port>\n}; from then on it is a
 * plain byte stream. kavach's QEMU relay ({@code kavach-agent --relay}) speaks the same handshake.
 *
 * <pre>{@code
 * SocketChannel ch = VsockChannel.connect(Path.of("/dev/shm/kavach-x/v.sock"), 5005);
 * }</pre>
 */
public final class VsockChannel {
  private static final int MAX_REPLY = 64;

  private VsockChannel() {}

  /**
   * Connects to a guest port once.
   *
   * @throws IOException if the socket is missing, or the guest does not listen on the port (the VMM
   *     then closes the connection without {@code OK})
   */
  public static SocketChannel connect(Path uds, int port) throws IOException {
    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      ch.connect(UnixDomainSocketAddress.of(uds));
      ByteBuffer hello =
          ByteBuffer.wrap(("CONNECT " + port + "\n").getBytes(StandardCharsets.US_ASCII));
      while (hello.hasRemaining()) {
        ch.write(hello);
      }
      String reply = readLine(ch);
      if (!reply.startsWith("OK ")) {
        throw new IOException(
            "vsock handshake on " + uds + " port " + port + " was answered \"" + reply + "\"");
      }
      return ch;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /**
   * Connects, retrying while the guest boots and until its agent listens.
   *
   * @throws IOException the last failure, once {@code wait} has passed
   */
  public static SocketChannel connectWhenReady(Path uds, int port, Duration wait)
      throws IOException {
    long deadline = System.nanoTime() + wait.toNanos();
    while (true) {
      try {
        return connect(uds, port);
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw new IOException(
              "guest agent did not answer on vsock port " + port + " within " + wait, e);
        }
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for the guest agent", e);
      }
    }
  }

  // One byte at a time: nothing after the newline may be consumed, it belongs to the stream.
  private static String readLine(SocketChannel ch) throws IOException {
    StringBuilder line = new StringBuilder();
    ByteBuffer one = ByteBuffer.allocate(1);
    while (line.length() < MAX_REPLY) {
      one.clear();
      if (ch.read(one) < 0) {
        return line.length() == 0 ? "(closed)" : line.toString();
      }
      char c = (char) (one.get(0) & 0xff);
      if (c == '\n') {
        return line.toString();
      }
      line.append(c);
    }
    return line.toString();
  }
}
