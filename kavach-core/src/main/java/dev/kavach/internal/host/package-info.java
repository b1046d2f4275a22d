/** Host facts: pure parsers of /proc and /sys plus one reader. Not exported. */
@NullMarked
package dev.kavach.internal.host;

import org.jspecify.annotations.NullMarked;
