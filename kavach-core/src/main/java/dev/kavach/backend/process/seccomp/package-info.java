/**
 * Seccomp for the process backend: syscall tables, profiles stored as data, a compiler from a
 * profile to a classic BPF program the launcher installs last before {@code execve}, an interpreter
 * that runs those programs in tests, and the export of a profile as an OCI {@code linux.seccomp}
 * object.
 *
 * <pre>{@code
 * SeccompProfile profile = SeccompProfile.resolve("strict");
 * BpfProgram program = SeccompCompiler.compile(profile, Arch.host(), true);
 * program.writeTo(runDir.resolve("seccomp.bpf"));   // struct sock_filter[], host byte order
 * ObjectNode oci = ContainerSeccomp.toTree(profile, Arch.host(), true);
 * }</pre>
 *
 * <p>Not exported from the module: the backends inside kavach-core use it directly.
 */
@NullMarked
package dev.kavach.backend.process.seccomp;

import org.jspecify.annotations.NullMarked;
