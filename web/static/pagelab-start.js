// Starts the web lab: imports wasm-bindgen's module and loads the wasm, whose
// main() mounts the lab. Trunk names both files (with a hash) in this script
// tag's data attributes (Trunk.toml's pattern_script), so the page needs no
// inline script and works under a Content-Security-Policy without 'unsafe-inline'.
const me = document.getElementById('pagelab-start');
const { default: init } = await import(me.dataset.js);
const wasm = await init({ module_or_path: me.dataset.wasm });
// The size of the lab's wasm memory, in bytes: what e2e/perf.mjs reports.
window.pagelabWasmBytes = () => wasm.memory.buffer.byteLength;
