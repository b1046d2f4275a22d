/**
 * What the OCI, gVisor and sy-agnos backends share: one container per sandbox whose first process
 * is {@code kavach-agent-oci init}, each exec run by {@code kavach-agent-oci exec} through the
 * runtime's own exec, the probe that confirms inside the container what was asked for, and the
 * cleanup.
 *
 * <p>The runtime-specific parts (the bundle writer in {@code dev.kavach.backend.oci}, podman flags
 * in {@code dev.kavach.backend.syagnos}) plug in through {@link
 * dev.kavach.internal.container.ContainerDriver}. Not exported.
 */
@NullMarked
package dev.kavach.internal.container;

import org.jspecify.annotations.NullMarked;
