package dev.kavach.backend.tee;

import dev.kavach.internal.guest.GuestHost;

/**
 * The {@code tdx} backend: each sandbox is an Intel TDX trust domain under QEMU, with kavach-agent
 * as PID 1 of its initrd, reached over vsock. Needs a TDX-enabled Xeon host ({@code
 * kvm_intel.tdx=1}), QEMU 10.1+, TDVF firmware and a guest kernel ({@code kavach.tdx.kernel});
 * {@link #probe()} names what is missing.
 *
 * <pre>{@code
 * Sandbox s = Sandbox.create(SandboxConfig.builder().backend("tdx").build());
 * }</pre>
 */
public final class TdxBackendProvider extends CvmBackendProvider {

  /** A provider probing this host (for {@link java.util.ServiceLoader}). */
  public TdxBackendProvider() {
    this(GuestHost.system());
  }

  TdxBackendProvider(GuestHost host) {
    super(CvmKind.TDX, host);
  }

  @Override
  public String description() {
    return "Intel TDX confidential VM (QEMU): trust domain isolated from the host, agent over vsock";
  }
}
