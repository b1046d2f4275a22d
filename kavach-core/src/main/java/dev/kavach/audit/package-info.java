/**
 * Audit events and the sinks they go to. {@link dev.kavach.audit.ChainedAuditSink} writes a
 * tamper-evident HMAC-SHA256 chain (format and verification in {@link
 * dev.kavach.audit.AuditChain}), keyed by an {@link dev.kavach.audit.AuditKey}.
 */
@NullMarked
package dev.kavach.audit;

import org.jspecify.annotations.NullMarked;
