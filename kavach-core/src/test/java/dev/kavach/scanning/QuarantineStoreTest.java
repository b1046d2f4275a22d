package dev.kavach.scanning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.KavachException;
import dev.kavach.scanning.ExternalizationGate.Origin;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuarantineStoreTest {
  @TempDir Path tmp;

  private static final String SECRET_OUTPUT = "password='correct-horse-battery-staple'\n";

  private String quarantine(QuarantineStore store, String stdout) {
    Map<String, byte[]> parts = new LinkedHashMap<>();
    parts.put("stdout", stdout.getBytes(StandardCharsets.UTF_8));
    parts.put("stderr", new byte[] {1, 2, 3});
    List<Finding> findings;
    try (SecretsScanner s = SecretsScanner.create()) {
      findings = s.scan(parts.get("stdout"), "stdout");
    }
    return store.put(
        new Origin("kv-aaaaaaaaaaaa", null, "kv-aaaaaaaaaaaa-3"), parts, findings, Severity.HIGH);
  }

  private static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(
        Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void roundTripWithPrivatePermissions() throws Exception {
    Path dir = tmp.resolve("state/kavach/quarantine");
    Clock clock = Clock.fixed(Instant.parse("2026-11-30T12:00:00Z"), ZoneOffset.UTC);
    QuarantineStore store = QuarantineStore.at(dir, clock);
    String id = quarantine(store, SECRET_OUTPUT);

    assertThat(mode(dir)).isEqualTo("rwx------");
    assertThat(mode(dir.resolve(id))).isEqualTo("rwx------");
    try (Stream<Path> files = Files.list(dir.resolve(id))) {
      assertThat(files)
          .extracting(p -> p.getFileName().toString())
          .containsExactlyInAnyOrder("metadata.json", "part-0", "part-1");
    }
    for (String f : new String[] {"metadata.json", "part-0", "part-1"}) {
      assertThat(mode(dir.resolve(id).resolve(f))).as(f).isEqualTo("rw-------");
    }
    // Metadata carries masked evidence only, never the output.
    String meta = Files.readString(dir.resolve(id).resolve("metadata.json"));
    assertThat(meta).doesNotContain("correct-horse-battery-staple").contains("\"evidence\"");

    QuarantineStore.Entry e = store.show(id);
    assertThat(e.sandboxId()).isEqualTo("kv-aaaaaaaaaaaa");
    assertThat(e.agentId()).isNull();
    assertThat(e.execId()).isEqualTo("kv-aaaaaaaaaaaa-3");
    assertThat(e.time()).isEqualTo(clock.instant());
    assertThat(e.status()).isEqualTo("quarantined");
    assertThat(e.worst()).isEqualTo(Severity.HIGH);
    assertThat(e.findings()).extracting(Finding::category).containsExactly("credential");
    assertThat(e.parts())
        .extracting(QuarantineStore.Part::name)
        .containsExactly("stdout", "stderr");
    assertThat(store.list()).extracting(QuarantineStore.Entry::id).containsExactly(id);

    QuarantineStore.Released r = store.approve(id);
    assertThat(new String(r.parts().get("stdout"), StandardCharsets.UTF_8))
        .isEqualTo(SECRET_OUTPUT);
    assertThat(r.parts().get("stderr")).containsExactly(1, 2, 3);
    assertThat(dir.resolve(id)).doesNotExist();
    assertThat(store.list()).isEmpty();
    try (Stream<Path> left = Files.list(dir)) {
      assertThat(left).isEmpty();
    }
  }

  @Test
  void rejectDeletesAndASecondDecisionFindsNothing() {
    QuarantineStore store = QuarantineStore.at(tmp.resolve("q"));
    String id = quarantine(store, SECRET_OUTPUT);
    store.reject(id);
    assertThat(tmp.resolve("q").resolve(id)).doesNotExist();
    assertThatThrownBy(() -> store.approve(id))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("no quarantined output with id " + id);
    assertThatThrownBy(() -> store.reject(id)).hasMessageContaining("no quarantined output");
    assertThatThrownBy(() -> store.show(id)).hasMessageContaining("no quarantined output");
  }

  @Test
  void idsThatAreNotOursAreRefusedBeforeTouchingThePath() {
    QuarantineStore store = QuarantineStore.at(tmp.resolve("q"));
    for (String bad :
        new String[] {
          "../etc", "/etc/passwd", "", "ABCDEF0123456789ABCDEF0123456789", "a".repeat(33)
        }) {
      assertThatThrownBy(() -> store.approve(bad))
          .as(bad)
          .hasMessageContaining("must be 32 lower-case hex digits");
    }
  }

  @Test
  void aDirectoryOpenToOthersIsRefused() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("q"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    QuarantineStore store = QuarantineStore.at(dir);
    assertThatThrownBy(() -> quarantine(store, SECRET_OUTPUT))
        .hasMessageContaining("is open to others (rwxr-xr-x)");
    assertThatThrownBy(store::list).hasMessageContaining("is open to others");
  }

  @Test
  void aSymlinkInPlaceOfTheDirectoryIsRefused() throws Exception {
    Path real =
        Files.createDirectory(
            tmp.resolve("real"),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Path link = Files.createSymbolicLink(tmp.resolve("q"), real);
    assertThatThrownBy(() -> quarantine(QuarantineStore.at(link), SECRET_OUTPUT))
        .hasMessageContaining("is not a directory (or is a link)");
  }

  @Test
  void aPartModifiedOnDiskIsNotReleased() throws Exception {
    Path dir = tmp.resolve("q");
    QuarantineStore store = QuarantineStore.at(dir);
    String id = quarantine(store, SECRET_OUTPUT);
    Files.writeString(dir.resolve(id).resolve("part-0"), "tampered");
    assertThatThrownBy(() -> store.approve(id)).hasMessageContaining("was modified on disk");
    // Still there for someone to look at.
    assertThat(store.show(id).id()).isEqualTo(id);
  }

  @Test
  void listIsOldestFirstAndEmptyWhenTheDirectoryDoesNotExist() {
    assertThat(QuarantineStore.at(tmp.resolve("none")).list()).isEmpty();
    assertThat(tmp.resolve("none")).doesNotExist();
    Path dir = tmp.resolve("q");
    String a =
        quarantine(
            QuarantineStore.at(
                dir, Clock.fixed(Instant.parse("2026-01-02T00:00:00Z"), ZoneOffset.UTC)),
            "x");
    String b =
        quarantine(
            QuarantineStore.at(
                dir, Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC)),
            "y");
    assertThat(QuarantineStore.at(dir).list())
        .extracting(QuarantineStore.Entry::id)
        .containsExactly(b, a);
  }

  @Test
  void defaultDirectoryFollowsXdg() {
    Path d = QuarantineStore.defaultDirectory();
    assertThat(d.toString()).endsWith("/kavach/quarantine");
    assertThat(d.isAbsolute()).isTrue();
  }
}
