/**
 * The WASM backend: WebAssembly (WASI preview 1) modules run in-process on Chicory, with captured
 * output, preopened directories as the only filesystem, and memory, time and instruction limits.
 */
module dev.kavach.wasm {
  requires transitive dev.kavach.core;
  requires com.dylibso.chicory.runtime;
  requires com.dylibso.chicory.wasi;
  requires com.dylibso.chicory.compiler;
  requires com.dylibso.chicory.log;
  requires java.management;
  requires static org.jspecify;

  exports dev.kavach.backend.wasm;

  provides dev.kavach.backend.BackendProvider with
      dev.kavach.backend.wasm.WasmBackendProvider;
}
