/**
 * The {@code sy-agnos} backend: containers of a hardened image run by podman or docker, scored by
 * the image's declared tier.
 */
@NullMarked
package dev.kavach.backend.syagnos;

import org.jspecify.annotations.NullMarked;
