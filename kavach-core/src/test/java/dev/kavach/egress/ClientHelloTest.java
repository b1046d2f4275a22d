package dev.kavach.egress;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;

class ClientHelloTest {

  /** The first flight of a real JDK TLS client asking for {@code serverName}. */
  static byte[] clientHello(String serverName) throws Exception {
    SSLEngine e = SSLContext.getDefault().createSSLEngine(serverName, 443);
    e.setUseClientMode(true);
    SSLParameters p = e.getSSLParameters();
    p.setServerNames(List.of(new SNIHostName(serverName)));
    e.setSSLParameters(p);
    ByteBuffer out = ByteBuffer.allocate(e.getSession().getPacketBufferSize());
    e.wrap(ByteBuffer.allocate(0), out);
    return Arrays.copyOf(out.array(), out.position());
  }

  @Test
  void readsTheServerNameOfARealClientHello() throws Exception {
    byte[] hello = clientHello("api.github.com");
    ClientHello.Result r = ClientHello.inspect(hello, hello.length);
    assertThat(r.kind()).isEqualTo(ClientHello.Kind.HELLO);
    assertThat(r.serverName()).isEqualTo("api.github.com");
    assertThat(r.recordLength()).isEqualTo(hello.length);
  }

  @Test
  void asksForMoreUntilTheFirstRecordIsComplete() throws Exception {
    byte[] hello = clientHello("api.github.com");
    assertThat(ClientHello.inspect(hello, 3).kind()).isEqualTo(ClientHello.Kind.INCOMPLETE);
    ClientHello.Result partial = ClientHello.inspect(hello, hello.length - 1);
    assertThat(partial.kind()).isEqualTo(ClientHello.Kind.INCOMPLETE);
    assertThat(partial.recordLength()).isEqualTo(hello.length);
  }

  @Test
  void otherProtocolsAreNotTls() {
    byte[] ssh = "SSH-2.0-OpenSSH_9.2\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    assertThat(ClientHello.inspect(ssh, ssh.length).kind()).isEqualTo(ClientHello.Kind.NOT_TLS);
    byte[] get = "GET / HTTP/1.1\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    assertThat(ClientHello.inspect(get, get.length).kind()).isEqualTo(ClientHello.Kind.NOT_TLS);
  }

  @Test
  void aClientHelloLongerThanItsRecordIsSplit() throws Exception {
    byte[] hello = clientHello("api.github.com");
    // Claim a handshake message longer than the record that carries it.
    hello[6] = 0x7f;
    assertThat(ClientHello.inspect(hello, hello.length).kind()).isEqualTo(ClientHello.Kind.SPLIT);
  }

  @Test
  void truncatedExtensionsAreSplitNotAnException() throws Exception {
    byte[] hello = clientHello("api.github.com");
    for (int cut = ClientHello.HEADER + 4; cut < hello.length; cut += 7) {
      byte[] b = Arrays.copyOf(hello, hello.length);
      // Shrink the record (and handshake) length so parsing runs off the claimed end.
      int len = cut - ClientHello.HEADER;
      b[3] = (byte) (len >> 8);
      b[4] = (byte) len;
      ClientHello.Result r = ClientHello.inspect(b, cut);
      assertThat(r.kind()).isIn(ClientHello.Kind.SPLIT, ClientHello.Kind.HELLO);
    }
  }
}
