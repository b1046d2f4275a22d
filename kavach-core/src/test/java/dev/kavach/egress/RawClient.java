package dev.kavach.egress;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;

/** A byte-exact client for the proxy, for requests a well-behaved HTTP library would not send. */
final class RawClient implements AutoCloseable {
  private AutoCloseable resource;
  InputStream in;
  OutputStream out;

  /** A parsed response: status line, head, and the body decoded from its framing. */
  record Response(String statusLine, String head, String body) {
    int status() {
      return Integer.parseInt(statusLine.split(" ")[1]);
    }

    String header(String name) {
      for (String line : head.split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
          return line.substring(colon + 1).strip();
        }
      }
      return null;
    }
  }

  RawClient(InetSocketAddress tcp) throws IOException {
    Socket s = new Socket();
    s.connect(tcp, 5000);
    s.setSoTimeout(20_000);
    resource = s;
    in = s.getInputStream();
    out = s.getOutputStream();
  }

  RawClient(Path unix) throws IOException {
    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
    ch.connect(UnixDomainSocketAddress.of(unix));
    resource = ch;
    // One thread uses this client at a time, so the channel streams cannot deadlock here.
    in = Channels.newInputStream(ch);
    out = Channels.newOutputStream(ch);
  }

  /** Continues the connection (after a CONNECT) as TLS to {@code host}, trusting {@code tls}. */
  RawClient startTls(javax.net.ssl.SSLContext tls, String host) throws IOException {
    return startTls(tls, host, null);
  }

  /**
   * As {@link #startTls(javax.net.ssl.SSLContext, String)}, but asking for {@code serverName} in
   * SNI; the certificate is then checked against the CA only (it names {@code host}).
   */
  RawClient startTls(javax.net.ssl.SSLContext tls, String host, String serverName)
      throws IOException {
    javax.net.ssl.SSLSocket ssl =
        (javax.net.ssl.SSLSocket)
            tls.getSocketFactory().createSocket((Socket) resource, host, 443, true);
    javax.net.ssl.SSLParameters params = ssl.getSSLParameters();
    if (serverName == null) {
      params.setEndpointIdentificationAlgorithm("HTTPS");
    } else {
      params.setServerNames(java.util.List.of(new javax.net.ssl.SNIHostName(serverName)));
    }
    ssl.setSSLParameters(params);
    ssl.startHandshake();
    resource = ssl;
    in = ssl.getInputStream();
    out = ssl.getOutputStream();
    return this;
  }

  RawClient send(String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    return this;
  }

  RawClient send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
    return this;
  }

  String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    while (true) {
      int c = in.read();
      if (c < 0) {
        throw new EOFException("connection closed; line so far: " + b);
      }
      if (c == '\n') {
        String s = b.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      b.write(c);
    }
  }

  /** Reads one response, decoding Content-Length, chunked or read-until-close bodies. */
  Response response() throws IOException {
    return response(false);
  }

  Response response(boolean headOnly) throws IOException {
    String status = line();
    StringBuilder head = new StringBuilder();
    long length = -1;
    boolean chunked = false;
    while (true) {
      String l = line();
      if (l.isEmpty()) {
        break;
      }
      head.append(l).append("\r\n");
      String lower = l.toLowerCase(Locale.ROOT);
      if (lower.startsWith("content-length:")) {
        length = Long.parseLong(l.substring(15).strip());
      }
      if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
        chunked = true;
      }
    }
    if (headOnly || status.split(" ")[1].startsWith("1")) {
      return new Response(status, head.toString(), "");
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (chunked) {
      while (true) {
        long n = Long.parseLong(line().split(";")[0].strip(), 16);
        if (n == 0) {
          while (!line().isEmpty()) {
            // trailers
          }
          break;
        }
        body.write(in.readNBytes((int) n));
        line();
      }
    } else if (length >= 0) {
      body.write(in.readNBytes((int) length));
    } else {
      body.write(in.readAllBytes());
    }
    return new Response(status, head.toString(), body.toString(StandardCharsets.UTF_8));
  }

  /** Everything until the proxy closes the connection. */
  String rest() throws IOException {
    return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    try {
      resource.close();
    } catch (IOException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException(e);
    }
  }
}
