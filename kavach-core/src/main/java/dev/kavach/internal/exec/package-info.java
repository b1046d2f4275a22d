/** The one process wrapper (timeout, tree kill, bounded capture). Not exported. */
@NullMarked
package dev.kavach.internal.exec;

import org.jspecify.annotations.NullMarked;
