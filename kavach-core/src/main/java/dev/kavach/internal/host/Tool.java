package dev.kavach.internal.host;

import java.nio.file.Path;

/**
 * An executable found on this host.
 *
 * @param name the name looked up
 * @param path its absolute path (kavach runs this path, never the bare name)
 * @param version the first line of its version output, or {@code unknown}
 */
public record Tool(String name, Path path, String version) {}
