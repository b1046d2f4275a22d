package dev.kavach.backend.microvm;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Firecracker's REST API over its Unix socket ({@code --api-sock}), for what the config file cannot
 * do: pause and resume, and snapshots of a booted VM for fast starts. One request per connection;
 * only the status line of the answer matters (Firecracker answers 204 on success and a JSON {@code
 * fault_message} otherwise).
 */
final class FirecrackerApi {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_RESPONSE = 64 * 1024;

  private final Path socket;

  FirecrackerApi(Path socket) {
    this.socket = socket;
  }

  /** {@code PATCH /vm {"state":"Paused"}}: freezes the vCPUs. */
  static String pause() {
    return request("PATCH", "/vm", JSON.createObjectNode().put("state", "Paused"));
  }

  /** {@code PATCH /vm {"state":"Resumed"}}. */
  static String resume() {
    return request("PATCH", "/vm", JSON.createObjectNode().put("state", "Resumed"));
  }

  /**
   * {@code PUT /snapshot/create}: a full snapshot of a paused VM (device state plus guest memory).
   * Paths are as the VMM sees them (inside the jail).
   */
  static String createSnapshot(String snapshotPath, String memPath) {
    return request(
        "PUT",
        "/snapshot/create",
        JSON.createObjectNode()
            .put("snapshot_type", "Full")
            .put("snapshot_path", snapshotPath)
            .put("mem_file_path", memPath));
  }

  /**
   * {@code PUT /snapshot/load}: restores a snapshot into a fresh VMM (started with only {@code
   * --api-sock}) and resumes it. The drives and the vsock socket must be at the same paths as when
   * the snapshot was taken, which the jail gives for free: every jail has the same inside paths.
   */
  static String loadSnapshot(String snapshotPath, String memPath) {
    ObjectNode body = JSON.createObjectNode().put("snapshot_path", snapshotPath);
    body.putObject("mem_backend").put("backend_type", "File").put("backend_path", memPath);
    body.put("resume_vm", true);
    return request("PUT", "/snapshot/load", body);
  }

  /** An HTTP/1.1 request with a JSON body, as Firecracker's API server expects it. */
  static String request(String method, String path, ObjectNode body) {
    String json = body.toString();
    return method
        + " "
        + path
        + " HTTP/1.1\r\n"
        + "Host: localhost\r\n"
        + "Accept: application/json\r\n"
        + "Content-Type: application/json\r\n"
        + "Content-Length: "
        + json.getBytes(StandardCharsets.UTF_8).length
        + "\r\n\r\n"
        + json;
  }

  /**
   * Sends one request and checks for a 2xx answer.
   *
   * @throws IOException with Firecracker's answer if it is not 2xx
   */
  void send(String request) throws IOException {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      ByteBuffer out = ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8));
      while (out.hasRemaining()) {
        ch.write(out);
      }
      byte[] buf = new byte[MAX_RESPONSE];
      ByteBuffer in = ByteBuffer.wrap(buf);
      while (in.hasRemaining() && !complete(buf, in.position())) {
        if (ch.read(in) < 0) {
          break;
        }
      }
      String answer = new String(buf, 0, in.position(), StandardCharsets.UTF_8);
      int status = status(answer);
      if (status < 200 || status > 299) {
        throw new IOException(
            "firecracker API "
                + request.substring(0, request.indexOf('\r'))
                + " answered: "
                + answer.strip());
      }
    }
  }

  /** The status code of an HTTP response, -1 if it has none. */
  static int status(String response) {
    if (!response.startsWith("HTTP/1.1 ") || response.length() < 12) {
      return -1;
    }
    try {
      return Integer.parseInt(response.substring(9, 12));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  // A 204 has no body; anything else carries Content-Length, and a short read is good enough for
  // an error message.
  private static boolean complete(byte[] buf, int n) {
    String s = new String(buf, 0, n, StandardCharsets.UTF_8);
    int end = s.indexOf("\r\n\r\n");
    if (end < 0) {
      return false;
    }
    int cl = s.toLowerCase(java.util.Locale.ROOT).indexOf("content-length:");
    if (cl < 0 || cl > end) {
      return true;
    }
    int len = Integer.parseInt(s.substring(cl + 15, s.indexOf("\r\n", cl)).trim());
    return n >= end + 4 + len;
  }
}
