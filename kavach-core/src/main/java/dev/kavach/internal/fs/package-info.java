/** Directory trees written by sandboxed code. Not exported. */
@NullMarked
package dev.kavach.internal.fs;

import org.jspecify.annotations.NullMarked;
