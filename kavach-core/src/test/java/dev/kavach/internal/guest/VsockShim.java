package dev.kavach.internal.guest;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Test stand-in for Firecracker's vsock device: a Unix socket that answers {@code CONNECT <port>\n}
 * with {@code OK <host port>\n} and splices the connection to a kavach-agent listening on another
 * Unix socket. Like Firecracker, it closes the connection without {@code OK} for a port nobody
 * listens on, and closing either side closes the other.
 */
final class VsockShim implements AutoCloseable {
  private final ServerSocketChannel server;
  private final Path uds;
  private final Path agentSocket;
  private final int port;
  private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;

  VsockShim(Path uds, Path agentSocket, int port) throws IOException {
    this.uds = uds;
    this.agentSocket = agentSocket;
    this.port = port;
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(uds));
    acceptor = new Thread(this::acceptLoop, "vsock-shim");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private void acceptLoop() {
    while (server.isOpen()) {
      try {
        SocketChannel host = server.accept();
        Thread t = new Thread(() -> handle(host), "vsock-shim-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private void handle(SocketChannel host) {
    open.add(host);
    try {
      StringBuilder line = new StringBuilder();
      ByteBuffer one = ByteBuffer.allocate(1);
      while (line.length() < 64) {
        one.clear();
        if (host.read(one) < 0) {
          return;
        }
        char c = (char) one.get(0);
        if (c == '\n') {
          break;
        }
        line.append(c);
      }
      if (!line.toString().equals("CONNECT " + port)) {
        host.close();
        return;
      }
      SocketChannel guest = SocketChannel.open(StandardProtocolFamily.UNIX);
      guest.connect(UnixDomainSocketAddress.of(agentSocket));
      open.add(guest);
      ByteBuffer ok = ByteBuffer.wrap("OK 1073741824\n".getBytes(StandardCharsets.US_ASCII));
      while (ok.hasRemaining()) {
        host.write(ok);
      }
      Thread back = new Thread(() -> splice(guest, host, true), "vsock-shim-back");
      back.setDaemon(true);
      back.start();
      splice(host, guest, false);
    } catch (IOException e) {
      closeQuietly(host);
    }
  }

  /**
   * Copies one direction. The guest-to-host direction closes both sides at its end, after the
   * guest's last bytes are delivered; the host-to-guest direction only passes the host's end on, so
   * a guest that stops reading cannot cost the host the guest's final frames.
   */
  private void splice(SocketChannel from, SocketChannel to, boolean closesBoth) {
    ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    try {
      while (from.read(buf) >= 0) {
        buf.flip();
        while (buf.hasRemaining()) {
          to.write(buf);
        }
        buf.clear();
      }
      if (!closesBoth) {
        to.shutdownOutput();
      }
    } catch (IOException e) {
      // One side went away.
    } finally {
      if (closesBoth) {
        closeQuietly(from);
        closeQuietly(to);
      }
    }
  }

  private void closeQuietly(SocketChannel ch) {
    open.remove(ch);
    try {
      ch.close();
    } catch (IOException e) {
      // Already closed.
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    open.forEach(this::closeQuietly);
    Files.deleteIfExists(uds);
  }
}
