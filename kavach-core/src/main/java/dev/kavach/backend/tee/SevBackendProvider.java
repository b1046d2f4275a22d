package dev.kavach.backend.tee;

import dev.kavach.internal.guest.GuestHost;

/**
 * The {@code sev} backend: each sandbox is an AMD SEV-SNP guest under QEMU, whose memory the host
 * cannot read or silently change. The kernel, the initrd (with kavach-agent as {@code /init}) and
 * the command line are measured into the launch digest ({@code kernel-hashes=on}); commands reach
 * the agent over vsock. Needs an SNP-enabled EPYC host, QEMU 9.1+, an AmdSev OVMF and a guest
 * kernel ({@code kavach.sev.kernel}); {@link #probe()} names what is missing.
 *
 * <pre>{@code
 * Sandbox s = Sandbox.create(SandboxConfig.builder().backend("sev").build());
 * }</pre>
 */
public final class SevBackendProvider extends CvmBackendProvider {

  /** A provider probing this host (for {@link java.util.ServiceLoader}). */
  public SevBackendProvider() {
    this(GuestHost.system());
  }

  SevBackendProvider(GuestHost host) {
    super(CvmKind.SEV_SNP, host);
  }

  @Override
  public String description() {
    return "AMD SEV-SNP confidential VM (QEMU): encrypted guest memory, measured boot, agent over"
        + " vsock";
  }
}
