/**
 * Talking to kavach-agent inside a guest (microVM, SEV-SNP or TDX VM): the framed protocol, the
 * Firecracker-style vsock handshake over a Unix socket, the agent binary shipped in the jar, a
 * deterministic initrd writer, and the host facts the VM backends probe. Not exported.
 */
@NullMarked
package dev.kavach.internal.guest;

import org.jspecify.annotations.NullMarked;
