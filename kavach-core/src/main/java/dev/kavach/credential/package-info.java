/** Secrets: named references, how they are injected, and where their values come from. */
@NullMarked
package dev.kavach.credential;

import org.jspecify.annotations.NullMarked;
