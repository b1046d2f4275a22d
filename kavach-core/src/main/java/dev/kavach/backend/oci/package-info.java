/**
 * The {@code oci}, {@code oci-crun} and {@code oci-runc} backends, and {@link
 * dev.kavach.backend.oci.OciBundle}, the OCI spec writer they share with the {@code gvisor}
 * backend.
 */
@NullMarked
package dev.kavach.backend.oci;

import org.jspecify.annotations.NullMarked;
