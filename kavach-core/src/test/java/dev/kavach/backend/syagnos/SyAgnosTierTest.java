package dev.kavach.backend.syagnos;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyAgnosTierTest {
  @Test
  void basesAreTheRustCratesTable() {
    assertThat(SyAgnosTier.MINIMAL.baseScore()).isEqualTo(80);
    assertThat(SyAgnosTier.DMVERITY.baseScore()).isEqualTo(85);
    assertThat(SyAgnosTier.TPM_MEASURED.baseScore()).isEqualTo(88);
  }

  @Test
  void readsAJsonTierField() {
    assertThat(SyAgnosTier.parseRelease("{\"version\":\"1.2\",\"tier\":\"tpm_measured\"}\n"))
        .isEqualTo(SyAgnosTier.TPM_MEASURED);
    assertThat(SyAgnosTier.parseRelease("{\"tier\":\"DMVERITY\"}")).isEqualTo(SyAgnosTier.DMVERITY);
  }

  @Test
  void readsATierLine() {
    assertThat(SyAgnosTier.parseRelease("NAME=sy-agnos\ntier=dmverity\n"))
        .isEqualTo(SyAgnosTier.DMVERITY);
    assertThat(SyAgnosTier.parseRelease("tier=\"tpm_measured\""))
        .isEqualTo(SyAgnosTier.TPM_MEASURED);
  }

  @Test
  void anythingElseIsMinimal() {
    assertThat(SyAgnosTier.parseRelease("")).isEqualTo(SyAgnosTier.MINIMAL);
    assertThat(SyAgnosTier.parseRelease("tier=fortress")).isEqualTo(SyAgnosTier.MINIMAL);
    assertThat(SyAgnosTier.parseRelease("{\"tier\": 88}")).isEqualTo(SyAgnosTier.MINIMAL);
    assertThat(SyAgnosTier.parseRelease("{broken")).isEqualTo(SyAgnosTier.MINIMAL);
  }

  @Test
  void aReleaseFileIsReadFromTheImageRootOnly(@TempDir Path root) throws Exception {
    Files.createDirectories(root.resolve("etc"));
    Files.writeString(root.resolve("etc/sy-agnos-release"), "tier=dmverity\n");
    assertThat(SyAgnosBackendProvider.readTier(root)).isEqualTo(SyAgnosTier.DMVERITY);
  }

  @Test
  void aSymlinkedReleaseFileIsNotFollowedOutOfTheImage(@TempDir Path root) throws Exception {
    // Following it would read a host file: the image's link resolves against the host's root.
    Path outside = Files.writeString(root.resolve("host-file"), "tier=tpm_measured\n");
    Path image = Files.createDirectories(root.resolve("image/etc"));
    Files.createSymbolicLink(image.resolve("sy-agnos-release"), outside);
    assertThat(SyAgnosBackendProvider.readTier(root.resolve("image")))
        .isEqualTo(SyAgnosTier.MINIMAL);
    Path linkedEtc = Files.createDirectories(root.resolve("image2"));
    Files.createSymbolicLink(linkedEtc.resolve("etc"), root.resolve("image/etc"));
    assertThat(SyAgnosBackendProvider.readTier(linkedEtc)).isEqualTo(SyAgnosTier.MINIMAL);
  }
}
