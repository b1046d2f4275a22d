/**
 * The WASM backend: {@link dev.kavach.backend.wasm.WasmBackendProvider} runs a WASI preview 1
 * module (the command's {@code .wasm} file) on Chicory inside the JVM. The module reaches nothing
 * but what is handed to it: its arguments, the built environment, standard input, two capped output
 * streams, clocks, randomness, and a guest filesystem made of the workspace and the policy's
 * filesystem rules (as preopened directories, confined and access-checked by {@code
 * GuestFileSystemProvider}). Use it through {@link dev.kavach.Sandbox} with backend {@code wasm}.
 */
@NullMarked
package dev.kavach.backend.wasm;

import org.jspecify.annotations.NullMarked;
