/**
 * The backend SPI: providers found with {@link java.util.ServiceLoader}, their capabilities, and
 * the {@link dev.kavach.backend.Enforcement} report every exec returns.
 */
@NullMarked
package dev.kavach.backend;

import org.jspecify.annotations.NullMarked;
