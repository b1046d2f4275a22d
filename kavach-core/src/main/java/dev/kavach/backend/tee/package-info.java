/**
 * Confidential-computing backends: {@code sgx} (an Intel SGX enclave through Gramine), {@code sev}
 * (an AMD SEV-SNP guest) and {@code tdx} (an Intel TDX guest), the last two QEMU VMs whose PID 1 is
 * kavach-agent. Each probe names exactly what the host lacks.
 */
@NullMarked
package dev.kavach.backend.tee;

import org.jspecify.annotations.NullMarked;
