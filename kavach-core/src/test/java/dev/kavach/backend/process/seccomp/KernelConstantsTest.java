package dev.kavach.backend.process.seccomp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class KernelConstantsTest {
  /**
   * {@code #define NAME value} and {@code NAME = value,} (enums), values may name other symbols.
   */
  private static final Pattern DEF =
      Pattern.compile(
          "(?m)^\\s*(?:#define\\s+(\\w+)\\s+|(\\w+)\\s*=\\s*)(0x[0-9a-fA-F]+|\\d+|[A-Z_][A-Z0-9_]*)\\b");

  @Test
  void errnoNumbersMatchTheHeaders() throws IOException {
    Map<String, String> defs = definitions("asm-generic/errno-base.h", "asm-generic/errno.h");
    assertThat(KernelConstants.errnos()).hasSizeGreaterThan(130);
    KernelConstants.errnos()
        .forEach(
            (name, value) -> assertThat(resolve(defs, name)).as(name).isEqualTo(value.longValue()));
    assertThat(KernelConstants.errno("EPERM")).hasValue(1);
    assertThat(KernelConstants.errno("ENOSYS")).hasValue(38);
    assertThat(KernelConstants.errno("EAFNOSUPPORT")).hasValue(97);
    assertThat(KernelConstants.errnoName(11)).isEqualTo("EAGAIN");
  }

  @Test
  void symbolsMatchTheHeaders() throws IOException {
    Map<String, String> defs =
        definitions(
            "linux/sched.h",
            "asm-generic/ioctls.h",
            "x86_64-linux-gnu/bits/socket.h",
            "linux/netlink.h",
            "linux/personality.h");
    KernelConstants.symbols()
        .forEach(
            (name, value) -> {
              if (name.equals("PERSONALITY_QUERY")) {
                assertThat(value).isEqualTo(0xFFFF_FFFFL);
                return;
              }
              // bits/socket.h defines AF_x as PF_x.
              String key = defs.containsKey(name) ? name : name.replaceFirst("^AF_", "PF_");
              assertThat(resolve(defs, key)).as(name).isEqualTo(value);
            });
  }

  @Test
  void valuesCombineNumbersAndSymbols() {
    assertThat(KernelConstants.value("CLONE_NEWUSER|CLONE_NEWNS")).hasValue(0x10020000L);
    assertThat(KernelConstants.value(" 0x10 | 1 ")).hasValue(0x11L);
    assertThat(KernelConstants.value("CLONE_NEWUSR")).isEmpty();
    assertThat(KernelConstants.value("0x1ffffffff")).isEmpty();
  }

  private static Map<String, String> definitions(String... headers) throws IOException {
    Map<String, String> defs = new HashMap<>();
    for (String h : headers) {
      Path p = Path.of("/usr/include", h);
      HostTools.require(Files.isRegularFile(p), "no " + p + " (linux-libc-dev, libc6-dev)");
      Matcher m = DEF.matcher(Files.readString(p));
      while (m.find()) {
        defs.putIfAbsent(m.group(1) != null ? m.group(1) : m.group(2), m.group(3));
      }
    }
    return defs;
  }

  private static long resolve(Map<String, String> defs, String name) {
    String v = defs.get(name);
    assertThat(v).as("definition of " + name).isNotNull();
    while (defs.containsKey(v)) {
      v = defs.get(v);
    }
    return v.startsWith("0x") ? Long.parseLong(v.substring(2), 16) : Long.parseLong(v);
  }
}
