// Starts the web lab: imports wasm-bindgen's module and loads the wasm, whose
// main() mounts the lab. Trunk names both files (with a hash) in this script
// tag's data attributes (Trunk.toml's pattern_script), so the page needs no
// inline script and works under a Content-Security-Policy without 'unsafe-inline'.
const me = document.getElementById('pagelab-start');
const { default: init } = await import(me.dataset.js);
const wasm = await init({ module_or_path: me.dataset.wasm });
// The size of the lab's wasm memory, in bytes: what e2e/perf.mjs reports.
window.pagelabWasmBytes = () => wasm.memory.buffer.byteLength;
// Keep the page's scroll padding (--bar) as tall as the sticky step bar really
// is: a notice inside it makes it taller, and a focused control scrolled into
// view must not end up under it (WCAG 2.4.11).
const watchBar = () => {
  const bar = document.getElementById('stepbar');
  if (!bar) return false;
  new ResizeObserver(() => {
    document.documentElement.style.setProperty('--bar', `${Math.ceil(bar.getBoundingClientRect().height) + 8}px`);
  }).observe(bar);
  return true;
};
if (!watchBar()) {
  const wait = new MutationObserver(() => { if (watchBar()) wait.disconnect(); });
  wait.observe(document.body, { childList: true, subtree: true });
}
