package dev.kavach.backend.tee;

import dev.kavach.backend.Availability;
import dev.kavach.internal.guest.GuestHost;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the sgx backend needs: a CPU with SGX and flexible launch control, the in-kernel driver's
 * {@code /dev/sgx_enclave}, and Gramine's tools. A device node alone is not taken as support (the
 * Rust crate's mistake). aesmd is reported, not required: with launch control, enclaves start
 * without it; only remote attestation needs it.
 */
final class SgxProbe {
  static final List<String> TOOLS =
      List.of("gramine-sgx", "gramine-manifest", "gramine-sgx-sign", "gramine-sgx-gen-private-key");
  static final Path AESM_SOCKET = Path.of("/var/run/aesmd/aesm.socket");

  private SgxProbe() {}

  static Availability probe(GuestHost host) {
    List<String> missing = new ArrayList<>();
    List<String> flags = cpuFlags(host.read(Path.of("/proc/cpuinfo")));
    if (!flags.contains("sgx")) {
      missing.add("the CPU does not advertise SGX (no sgx flag in /proc/cpuinfo)");
    } else if (!flags.contains("sgx_lc")) {
      missing.add("the CPU has SGX without flexible launch control (no sgx_lc flag)");
    }
    if (!host.exists(Path.of("/dev/sgx_enclave"))) {
      missing.add("/dev/sgx_enclave absent (no SGX driver)");
    }
    for (String t : TOOLS) {
      if (host.tool(t).isEmpty()) {
        missing.add(t + " not found (install Gramine)");
      }
    }
    boolean aesmd = host.exists(AESM_SOCKET);
    if (!missing.isEmpty()) {
      if (!aesmd) {
        missing.add(
            "aesmd not running (no " + AESM_SOCKET + ", needed for remote attestation only)");
      }
      return Availability.unavailable(String.join("; ", missing));
    }
    return Availability.available(
        "SGX with launch control, /dev/sgx_enclave, Gramine at "
            + host.tool("gramine-sgx").orElseThrow()
            + (aesmd ? ", aesmd running" : "; aesmd not running: no remote attestation"));
  }

  /** The flags of the first CPU in {@code /proc/cpuinfo}. */
  static List<String> cpuFlags(String cpuinfo) {
    for (String line : cpuinfo.split("\n")) {
      if (line.startsWith("flags")) {
        return List.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
      }
    }
    return List.of();
  }
}
