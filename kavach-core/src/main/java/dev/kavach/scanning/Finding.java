package dev.kavach.scanning;

/**
 * Something a scanner found in an output.
 *
 * @param scanner which scanner ({@code secrets}, ...)
 * @param severity how bad
 * @param category category, as in the Rust crate ({@code cloud_credential}, {@code pii}, ...)
 * @param message what was detected, for example {@code AWS Access Key detected}
 * @param evidence a masked, UTF-8-safe excerpt: first 4 characters, {@code ****}, last 4 (fewer for
 *     short matches; none of a known secret)
 * @param stream {@code stdout}, {@code stderr}, or the workspace path of a copied-out file
 * @param offset byte offset of the match in that stream
 */
public record Finding(
    String scanner,
    Severity severity,
    String category,
    String message,
    String evidence,
    String stream,
    long offset) {}
