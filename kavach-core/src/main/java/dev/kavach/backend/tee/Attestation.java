package dev.kavach.backend.tee;

import java.util.List;

/**
 * Retrieval of the guest's attestation report through the kernel's configfs-tsm interface ({@code
 * /sys/kernel/config/tsm/report}, Linux 6.7+), which serves SEV-SNP reports and TDX quotes alike.
 * The host's fresh nonce is the report data (64 bytes on standard input); the report comes back on
 * standard output. Verifying it needs AMD's or Intel's certificate chain, which kavach does not
 * fetch: the report is retrieved and recorded, not verified.
 */
final class Attestation {
  /** Bytes of report data the hardware binds into the report. */
  static final int NONCE_BYTES = 64;

  private Attestation() {}

  /** The guest command that writes the nonce and prints the report. */
  static List<String> command() {
    return List.of(
        "/bin/sh",
        "-c",
        "set -e; r=/sys/kernel/config/tsm/report/kavach$$; mkdir \"$r\";"
            + " trap 'rmdir \"$r\"' EXIT; cat > \"$r/inblob\"; cat \"$r/provider\" >&2;"
            + " cat \"$r/outblob\"");
  }
}
