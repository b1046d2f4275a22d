/**
 * The entry point: {@link dev.kavach.Sandbox}, its {@link dev.kavach.SandboxConfig}, and what an
 * exec returns ({@link dev.kavach.ExecResult}). Everything fails with {@link
 * dev.kavach.KavachException}.
 */
@NullMarked
package dev.kavach;

import org.jspecify.annotations.NullMarked;
