/**
 * Secrets: named references ({@link dev.kavach.credential.SecretRef}), how they reach the command
 * ({@link dev.kavach.credential.Injection}: environment, file in memory, standard input, or masked
 * behind the egress proxy), and where their values come from ({@link
 * dev.kavach.credential.CredentialSource}, usually a {@link
 * dev.kavach.credential.CredentialProxy}). Names travel everywhere (audit events, findings,
 * errors); values only to the backend, and are wiped after each exec.
 */
@NullMarked
package dev.kavach.credential;

import org.jspecify.annotations.NullMarked;
