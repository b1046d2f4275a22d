/**
 * What may leave a sandbox. {@link dev.kavach.scanning.SecretsScanner} finds secrets in output (the
 * Rust crate's 17 patterns, the entropy rule, and the exact values of injected secrets in their
 * common encodings), in time linear in the output. {@link dev.kavach.scanning.ExternalizationGate}
 * turns findings into a {@link dev.kavach.scanning.Verdict} (pass, warn and redact, quarantine,
 * block) and {@link dev.kavach.scanning.QuarantineStore} keeps quarantined output for review.
 *
 * <p>{@link dev.kavach.Sandbox} runs the gate on every exec's output and on {@link
 * dev.kavach.Sandbox#copyOut} when {@link dev.kavach.SandboxConfig#externalization()} is set (by
 * default with the strict preset), and returns the report in {@link dev.kavach.ExecResult#scan()}.
 */
@NullMarked
package dev.kavach.scanning;

import org.jspecify.annotations.NullMarked;
