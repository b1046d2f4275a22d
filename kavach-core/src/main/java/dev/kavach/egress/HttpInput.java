package dev.kavach.egress;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * A buffered reader of HTTP text and bytes over a {@link Stream}, with hard limits on line length.
 * It is itself a {@link Stream}: reads come from the buffer first, so bytes a client sent early (a
 * TLS ClientHello right behind a CONNECT) are not lost when the connection changes protocol.
 */
final class HttpInput implements Stream {
  private final Stream in;
  private final byte[] buf = new byte[16 * 1024];
  private int pos;
  private int lim;

  HttpInput(Stream in) {
    this.in = in;
  }

  private boolean fill() throws IOException {
    if (pos < lim) {
      return true;
    }
    int n = in.read(buf, 0, buf.length);
    if (n <= 0) {
      return false;
    }
    pos = 0;
    lim = n;
    return true;
  }

  /** The next byte without consuming it, or -1 at end of stream. */
  int peek() throws IOException {
    return fill() ? buf[pos] & 0xff : -1;
  }

  /** Reads one byte, or -1 at end of stream. */
  int readByte() throws IOException {
    return fill() ? buf[pos++] & 0xff : -1;
  }

  /** Reads exactly {@code n} bytes. */
  byte[] readExactly(int n) throws IOException {
    byte[] out = new byte[n];
    int got = 0;
    while (got < n) {
      int r = read(out, got, n - got);
      if (r < 0) {
        throw new java.io.EOFException("stream ended after " + got + " of " + n + " bytes");
      }
      got += r;
    }
    return out;
  }

  /**
   * Reads one line without its terminator (CRLF, or a bare LF). Returns null at end of stream
   * before any byte.
   *
   * @throws Denied (400) if the line is longer than {@code max}, contains NUL or a bare CR, or the
   *     stream ends inside it
   */
  String readLine(int max, String what) throws IOException, Denied {
    StringBuilder sb = new StringBuilder();
    boolean any = false;
    while (true) {
      if (!fill()) {
        if (!any) {
          return null;
        }
        throw Denied.badRequest("connection closed inside the " + what);
      }
      any = true;
      byte c = buf[pos++];
      if (c == '\n') {
        return sb.toString();
      }
      if (c == '\r') {
        if (!fill() || buf[pos] != '\n') {
          throw Denied.badRequest("bare CR in the " + what);
        }
        pos++;
        return sb.toString();
      }
      if (c == 0) {
        throw Denied.badRequest("NUL byte in the " + what);
      }
      if (sb.length() >= max) {
        throw Denied.badRequest(what + " longer than " + max + " bytes");
      }
      sb.append((char) (c & 0xff));
    }
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (pos < lim) {
      int n = Math.min(len, lim - pos);
      System.arraycopy(buf, pos, b, off, n);
      pos += n;
      return n;
    }
    return in.read(b, off, len);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    in.write(b, off, len);
  }

  @Override
  public void shutdownOutput() throws IOException {
    in.shutdownOutput();
  }

  @Override
  public void close() {
    in.close();
  }

  static String latin1(byte[] b) {
    return new String(b, StandardCharsets.ISO_8859_1);
  }
}
