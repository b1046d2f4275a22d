/**
 * The process backend: Linux namespaces, a read-only filesystem view, Landlock, seccomp and
 * cgroups, applied by a small C launcher ({@code native/launcher}) that this package extracts from
 * the jar, verifies and runs once per exec. Java decides and compiles (launch spec, BPF program);
 * the launcher applies, in a fixed order, and reports what it applied.
 */
@NullMarked
package dev.kavach.backend.process;

import org.jspecify.annotations.NullMarked;
