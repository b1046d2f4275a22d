/**
 * The {@code microvm} backend (alias {@code firecracker}): each sandbox is a Firecracker microVM
 * whose PID 1 is kavach-agent, reached over vsock. See {@link
 * dev.kavach.backend.microvm.MicrovmBackendProvider}.
 */
@NullMarked
package dev.kavach.backend.microvm;

import org.jspecify.annotations.NullMarked;
