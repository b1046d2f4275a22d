/** The noop backend, which runs nothing. */
@NullMarked
package dev.kavach.backend.noop;

import org.jspecify.annotations.NullMarked;
