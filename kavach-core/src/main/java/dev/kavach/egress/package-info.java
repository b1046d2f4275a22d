/**
 * The egress proxy: the only way out of a sandbox whose network is cut off, deciding each
 * destination by host name and port, and swapping secret placeholders for real values at the
 * boundary.
 *
 * <p>Use {@link dev.kavach.egress.EgressOptions} to tune it through {@link
 * dev.kavach.SandboxConfig.Builder#egress}; a {@link dev.kavach.Sandbox} whose policy names hosts
 * starts and stops its own {@link dev.kavach.egress.EgressProxy}.
 */
@NullMarked
package dev.kavach.egress;

import org.jspecify.annotations.NullMarked;
