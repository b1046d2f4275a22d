/** Policies: what a sandbox may do. Start with {@link dev.kavach.policy.SandboxPolicy#strict()}. */
@NullMarked
package dev.kavach.policy;

import org.jspecify.annotations.NullMarked;
