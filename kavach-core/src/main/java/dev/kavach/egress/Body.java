package dev.kavach.egress;

import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * How the body of an HTTP/1.x message is delimited (RFC 9112 section 6), and copying it through
 * without buffering. Chunked bodies are re-chunked as they are read: chunk extensions and trailer
 * fields are dropped (RFC 9112 7.1.1 and 7.1.2 allow an intermediary to discard them), so nothing
 * the proxy did not parse reaches the destination.
 *
 * @param kind the framing
 * @param length the byte count for {@link Kind#LENGTH}
 */
record Body(Kind kind, long length) {
  private static final int MAX_CHUNK_LINE = 1024;
  private static final int MAX_TRAILERS = 64;

  /** Body framings. */
  enum Kind {
    NONE,
    LENGTH,
    CHUNKED,
    UNTIL_CLOSE
  }

  static final Body NONE = new Body(Kind.NONE, 0);

  /**
   * The body of a request.
   *
   * @throws Denied (400) for ambiguous framing: both Content-Length and Transfer-Encoding,
   *     conflicting lengths, or a transfer coding other than a final chunked
   */
  static Body ofRequest(HttpHead head) throws Denied {
    List<String> te = head.all("Transfer-Encoding");
    List<String> cl = head.all("Content-Length");
    if (!te.isEmpty()) {
      if (!cl.isEmpty()) {
        // The classic request-smuggling setup (RFC 9112 6.3 point 3): refuse rather than guess.
        throw Denied.badRequest("request has both Transfer-Encoding and Content-Length");
      }
      if (!finalChunked(te)) {
        throw Denied.badRequest("request Transfer-Encoding must end with chunked: " + te);
      }
      return new Body(Kind.CHUNKED, 0);
    }
    long n = contentLength(cl);
    return n <= 0 ? NONE : new Body(Kind.LENGTH, n);
  }

  /** The body of a response to {@code method}, with status {@code status}. */
  static Body ofResponse(HttpHead head, String method, int status) throws Denied {
    if (method.equals("HEAD")
        || (status >= 100 && status < 200)
        || status == 204
        || status == 304) {
      return NONE;
    }
    List<String> te = head.all("Transfer-Encoding");
    if (!te.isEmpty()) {
      return finalChunked(te) ? new Body(Kind.CHUNKED, 0) : new Body(Kind.UNTIL_CLOSE, 0);
    }
    List<String> cl = head.all("Content-Length");
    if (cl.isEmpty()) {
      return new Body(Kind.UNTIL_CLOSE, 0);
    }
    long n = contentLength(cl);
    return n == 0 ? NONE : new Body(Kind.LENGTH, n);
  }

  private static boolean finalChunked(List<String> te) {
    String joined = String.join(",", te);
    String[] codings = joined.split(",");
    return codings[codings.length - 1].strip().toLowerCase(Locale.ROOT).equals("chunked");
  }

  private static long contentLength(List<String> values) throws Denied {
    long n = -1;
    for (String v : values) {
      for (String part : v.split(",")) {
        String p = part.strip();
        if (p.isEmpty() || p.length() > 18 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
          throw Denied.badRequest("invalid Content-Length: " + HttpHead.clip(v));
        }
        long x = Long.parseLong(p);
        if (n >= 0 && x != n) {
          throw Denied.badRequest("conflicting Content-Length values " + values);
        }
        n = x;
      }
    }
    return Math.max(n, 0);
  }

  /** Whether the end of this body is known without the connection closing. */
  boolean delimited() {
    return kind != Kind.UNTIL_CLOSE;
  }

  /**
   * Copies the body from {@code in} to {@code out}, calling {@code progress} after every chunk of
   * bytes (it keeps the connection's idle timer alive).
   */
  void copy(HttpInput in, Stream out, Runnable progress) throws IOException, Denied {
    byte[] buf = new byte[32 * 1024];
    switch (kind) {
      case NONE -> {}
      case LENGTH -> copyExactly(in, out, length, buf, progress);
      case UNTIL_CLOSE -> {
        int n;
        while ((n = in.read(buf, 0, buf.length)) >= 0) {
          out.write(buf, 0, n);
          progress.run();
        }
      }
      case CHUNKED -> copyChunked(in, out, buf, progress);
    }
  }

  private static void copyExactly(HttpInput in, Stream out, long n, byte[] buf, Runnable progress)
      throws IOException {
    long left = n;
    while (left > 0) {
      int r = in.read(buf, 0, (int) Math.min(buf.length, left));
      if (r < 0) {
        throw new EOFException("body ended " + left + " bytes early");
      }
      out.write(buf, 0, r);
      left -= r;
      progress.run();
    }
  }

  private static void copyChunked(HttpInput in, Stream out, byte[] buf, Runnable progress)
      throws IOException, Denied {
    while (true) {
      String line = in.readLine(MAX_CHUNK_LINE, "chunk size line");
      if (line == null) {
        throw new EOFException("chunked body ended without the last chunk");
      }
      int semi = line.indexOf(';');
      String hex = (semi >= 0 ? line.substring(0, semi) : line).strip();
      if (hex.isEmpty()
          || hex.length() > 15
          || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
        throw Denied.badRequest("invalid chunk size: " + HttpHead.clip(line));
      }
      long size = Long.parseLong(hex, 16);
      if (size == 0) {
        for (int i = 0; ; i++) {
          String trailer = in.readLine(HttpHead.MAX_LINE, "trailer");
          if (trailer == null || trailer.isEmpty()) {
            break;
          }
          if (i >= MAX_TRAILERS) {
            throw Denied.badRequest("more than " + MAX_TRAILERS + " trailer fields");
          }
        }
        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        progress.run();
        return;
      }
      out.write((Long.toHexString(size) + "\r\n").getBytes(StandardCharsets.US_ASCII));
      copyExactly(in, out, size, buf, progress);
      String end = in.readLine(2, "chunk end");
      if (end == null || !end.isEmpty()) {
        throw Denied.badRequest("chunk data not followed by CRLF");
      }
      out.write(new byte[] {'\r', '\n'});
    }
  }
}
