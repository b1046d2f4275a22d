/** Audit events and the sinks they go to. */
@NullMarked
package dev.kavach.audit;

import org.jspecify.annotations.NullMarked;
