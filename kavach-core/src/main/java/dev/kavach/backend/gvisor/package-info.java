/**
 * The {@code gvisor} backend: each sandbox is one runsc sandbox, built with the {@code oci}
 * backend's {@link dev.kavach.backend.oci.OciBundle} (the one dependency between backend packages).
 */
@NullMarked
package dev.kavach.backend.gvisor;

import org.jspecify.annotations.NullMarked;
