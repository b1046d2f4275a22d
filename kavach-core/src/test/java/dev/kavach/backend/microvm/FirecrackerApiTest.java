package dev.kavach.backend.microvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class FirecrackerApiTest {

  @Test
  void goldenRequests() {
    assertThat(FirecrackerApi.pause())
        .isEqualTo(
            "PATCH /vm HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
                + "Content-Type: application/json\r\nContent-Length: 18\r\n\r\n"
                + "{\"state\":\"Paused\"}");
    assertThat(FirecrackerApi.resume()).endsWith("{\"state\":\"Resumed\"}");
    assertThat(FirecrackerApi.createSnapshot("/snap/vm.snap", "/snap/vm.mem"))
        .startsWith("PUT /snapshot/create HTTP/1.1\r\n")
        .endsWith(
            "\r\n\r\n{\"snapshot_type\":\"Full\",\"snapshot_path\":\"/snap/vm.snap\","
                + "\"mem_file_path\":\"/snap/vm.mem\"}");
    assertThat(FirecrackerApi.loadSnapshot("/snap/vm.snap", "/snap/vm.mem"))
        .startsWith("PUT /snapshot/load HTTP/1.1\r\n")
        .endsWith(
            "\r\n\r\n{\"snapshot_path\":\"/snap/vm.snap\",\"mem_backend\":"
                + "{\"backend_type\":\"File\",\"backend_path\":\"/snap/vm.mem\"},"
                + "\"resume_vm\":true}");
  }

  @Test
  void contentLengthCountsBytesNotChars() {
    String r = FirecrackerApi.createSnapshot("/snap/\u00e9", "/m");
    String body = r.substring(r.indexOf("\r\n\r\n") + 4);
    assertThat(r).contains("Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length);
  }

  private static AtomicReference<String> serveOnce(Path sock, String answer) throws IOException {
    AtomicReference<String> seen = new AtomicReference<>();
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(sock));
    Thread t =
        new Thread(
            () -> {
              try (server;
                  SocketChannel c = server.accept()) {
                ByteBuffer b = ByteBuffer.allocate(4096);
                c.read(b);
                seen.set(new String(b.array(), 0, b.position(), StandardCharsets.UTF_8));
                c.write(ByteBuffer.wrap(answer.getBytes(StandardCharsets.UTF_8)));
              } catch (IOException e) {
                // Test over.
              }
            });
    t.setDaemon(true);
    t.start();
    return seen;
  }

  @Test
  void a204IsSuccess(@TempDir Path dir) throws Exception {
    Path sock = dir.resolve("api.sock");
    AtomicReference<String> seen =
        serveOnce(sock, "HTTP/1.1 204 \r\nServer: Firecracker API\r\n\r\n");
    new FirecrackerApi(sock).send(FirecrackerApi.pause());
    assertThat(seen.get()).startsWith("PATCH /vm HTTP/1.1");
  }

  @Test
  void aFaultIsAnErrorWithFirecrackersMessage(@TempDir Path dir) throws Exception {
    Path sock = dir.resolve("api.sock");
    String fault = "{\"fault_message\":\"Cannot create snapshot: VM is not paused\"}";
    serveOnce(
        sock,
        "HTTP/1.1 400 \r\nContent-Type: application/json\r\nContent-Length: "
            + fault.length()
            + "\r\n\r\n"
            + fault);
    assertThatThrownBy(
            () -> new FirecrackerApi(sock).send(FirecrackerApi.createSnapshot("/s", "/m")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("PUT /snapshot/create HTTP/1.1 answered: HTTP/1.1 400")
        .hasMessageContaining("VM is not paused");
  }
}
