/** Output scanning before output leaves the sandbox. */
@NullMarked
package dev.kavach.scanning;

import org.jspecify.annotations.NullMarked;
