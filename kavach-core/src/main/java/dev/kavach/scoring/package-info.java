/** Strength scores computed from what was enforced. */
@NullMarked
package dev.kavach.scoring;

import org.jspecify.annotations.NullMarked;
