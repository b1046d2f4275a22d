package dev.kavach.backend;

/**
 * Result of a backend health check.
 *
 * @param healthy whether the backend can run commands
 * @param detail what was checked, or what failed
 */
public record Health(boolean healthy, String detail) {}
