// pagelab widgets for course notes: the custom elements <pagelab-translate>,
// <pagelab-exec>, <pagelab-walk>, <pagelab-frames>, <pagelab-shm>,
// <pagelab-lab>, <pagelab-quiz> and <pagelab-run>, and the JS API (window.pagelab, and this module's exports).
//
//   <script type="module" src="widgets/pagelab-widgets.js"></script>
//   <pagelab-translate address="0x00403abc"></pagelab-translate>
//
// The files next to this one: pagelab-widgets-core.js and
// pagelab-widgets-core_bg.wasm (wasm-bindgen's output: the lab itself),
// pagelab-widgets.css (the widgets' look, loaded inside each widget's shadow
// root). See web/widgets/README.md for every element, attribute and function.
//
// Nothing a page supplies is ever inserted as HTML: attributes and scenario
// text are passed to the wasm as strings, and every message is set as text.
import init, * as core from './pagelab-widgets-core.js';

const WASM_URL = new URL('./pagelab-widgets-core_bg.wasm', import.meta.url);
const CSS_URL = new URL('./pagelab-widgets.css', import.meta.url).href;

/** The widget kinds (tag suffixes), their attributes, and whether they read a scenario inside the element. */
const KINDS = {
  translate: { attributes: ['address', 'scheme', 'scenario', 'step', 'pid', 'access', 'fixed'], inline: true },
  exec: { attributes: ['program', 'args', 'machine'], inline: false },
  walk: { attributes: ['scenario', 'step', 'pid', 'address', 'access'], inline: true },
  frames: { attributes: ['scenario', 'step'], inline: true },
  shm: { attributes: ['scenario', 'step'], inline: true },
  tlb: { attributes: ['scenario', 'step'], inline: true },
  lab: { attributes: ['scenario', 'step'], inline: true },
  quiz: { attributes: ['set', 'scenario', 'seed', 'student', 'questions'], inline: true },
  run: { attributes: ['program', 'args', 'machine'], inline: false },
};

let loaded = false;
let loadError = null;

/** Resolves to the API once the wasm is loaded (rejects if it cannot be). */
export const ready = init({ module_or_path: WASM_URL }).then(
  () => {
    loaded = true;
    window.dispatchEvent(new CustomEvent('pagelab-ready'));
    return pagelab;
  },
  (e) => {
    loadError = `pagelab could not load its WebAssembly file (${WASM_URL.pathname}): ${e && e.message ? e.message : e}`;
    throw new Error(loadError);
  },
);
// Callers who never wait on `ready` must not see an unhandled rejection; the widgets show the error.
ready.catch(() => {});

function need() {
  if (loadError) throw new Error(loadError);
  if (!loaded) throw new Error('pagelab is still loading: wait for pagelab.ready first (await pagelab.ready)');
}

/** Cut an address into its fields: decompose('x86', '0x00403abc').index.PDX === 1. */
export function decompose(scheme, address) {
  need();
  return core.decompose(scheme, address);
}

/** Walk an address: translate({scenario: 'story-x86', step: 7, pid: 3, address: '0x2fcc', access: 'user-write'}). */
export function translate(request) {
  need();
  return core.translate(request);
}

/** Run a scenario: run('userinit\nfork 1\n').steps[1].result.value === 2. */
export function run(text) {
  need();
  return core.run(text);
}

/**
 * Run the real programs: runPrograms({lines: ['echo hello world'], steps: 5}).console ends with 'hello world\n$ '.
 * Boots xv6-riscv, runs init to sh's prompt, types each line, then steps instructions one at a time.
 */
export function runPrograms(request = {}) {
  need();
  return core.run_programs(request);
}

/** The built-in scenarios: [{name, preset, operations, text}, …]. */
export function builtins() {
  need();
  return core.builtins();
}

/**
 * The questions of an exercise set: quiz({set: 'quiz-exec-riscv', student: 'ada'}).questions[0].prompt.
 * With answers: true, each question has its answer, why and hints too.
 */
export function quiz(options = {}) {
  need();
  return core.quiz(options);
}

/**
 * Check an answer: check({set: 'quiz-story-x86'}, 1, '0 2 0xfcc').right.
 * An answer that cannot be read gives readable: false and says why; it does not throw.
 */
export function check(options, number, answer) {
  need();
  return core.check(options, number, answer);
}

/**
 * Match the widget's colours to the page around `host`, not to the reader's system setting: light text (a dark
 * page) gets the accents made for dark pages (class pl-dark on `box`), dark text those for light pages (pl-light).
 */
function shade(host, box) {
  const color = getComputedStyle(host).color;
  const m = color.match(/[\d.]+/g);
  // rgb(r, g, b) in 0–255, or color(srgb r g b) in 0–1; another space (oklch, say) keeps the system's choice.
  const scale = color.startsWith('rgb') ? 255 : color.startsWith('color(srgb') ? 1 : 0;
  if (!scale || !m || m.length < 3) return;
  const lin = (c) => { const v = Number(c) / scale; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const y = 0.2126 * lin(m[0]) + 0.7152 * lin(m[1]) + 0.0722 * lin(m[2]);
  box.classList.toggle('pl-dark', y > 0.18);
  box.classList.toggle('pl-light', y <= 0.18);
}

/** The elements drawn on the page, shaded again when the page switches its theme (a class or style changed on
 * <html> or <body>, as a dark-mode toggle does). */
const shaded = new Set();
let themeWatch = null;
function watchTheme() {
  if (themeWatch) return;
  themeWatch = new MutationObserver(() => { for (const el of shaded) if (el._box) shade(el, el._box); });
  for (const root of [document.documentElement, document.body]) {
    if (root) themeWatch.observe(root, { attributes: true, attributeFilter: ['class', 'style', 'data-theme'] });
  }
}

/**
 * Give `host` a shadow root holding the widgets' stylesheet, a box to draw in (hidden, by the hidden attribute,
 * which needs no stylesheet, until the stylesheet is in), then `after`. Returns the box.
 */
function shadowBox(host, ...after) {
  const root = host.attachShadow({ mode: 'open' });
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = CSS_URL;
  const box = document.createElement('div');
  box.className = 'pl-host';
  shade(host, box);
  box.hidden = true;
  const reveal = () => { box.hidden = false; };
  link.addEventListener('load', reveal);
  link.addEventListener('error', reveal);
  root.append(link, box, ...after);
  return box;
}

/** What render() drew, by element: its shadow root's box and the core's handle. */
const rendered = new WeakMap();

/**
 * Draw a widget in `element`: render(el, 'walk', {scenario: 'story-x86', step: 7, pid: 3, address: '0x2fcc'}).
 * The widget lives in the element's shadow root, with the widgets' stylesheet, as the elements do: its ids
 * cannot clash with the page's or another widget's. Drawing again in the same element replaces it.
 * Returns a handle: error (null when drawn) and destroy(). Bad options draw the message in the element and throw it.
 */
export function render(element, kind, options = {}) {
  need();
  if (!(element instanceof Element)) {
    // An element of another frame or window is not an instance of this window's Element.
    if (element && typeof element === 'object' && element.nodeType === 1) {
      throw new TypeError('pagelab.render draws only in an element of this page, not of another frame or window: load pagelab in that frame');
    }
    throw new TypeError('pagelab.render needs an element to draw in');
  }
  if (!Object.hasOwn(KINDS, kind)) {
    throw new TypeError(`pagelab.render: no widget called "${String(kind).slice(0, 30)}"; the widgets are ${Object.keys(KINDS).join(', ')}`);
  }
  if (element instanceof PagelabElement) {
    throw new TypeError(`pagelab.render draws in a plain element: <${element.localName}> draws itself from its attributes`);
  }
  let mine = rendered.get(element);
  if (mine) {
    mine.destroy();
  } else {
    if (element.shadowRoot) throw new TypeError('pagelab.render cannot draw here: this element has a shadow root of its own');
    let box;
    try {
      // What the element held stays on show, after the widget.
      box = shadowBox(element, document.createElement('slot'));
    } catch {
      throw new TypeError(`pagelab.render cannot draw in <${element.localName}>: use a <div> (or another element that can hold a shadow root)`);
    }
    mine = { box, core: null, destroy() { if (this.core) { this.core.destroy(); this.core.free(); this.core = null; } this.box.replaceChildren(); } };
    rendered.set(element, mine);
  }
  const core_ = core.render(mine.box, kind, options, undefined);
  mine.core = core_;
  const handle = Object.freeze({ error: core_.error ?? null, destroy: () => mine.destroy() });
  if (handle.error) {
    const e = new Error(handle.error);
    e.handle = handle;
    throw e;
  }
  return handle;
}

export const version = '0.1.0';

const pagelab = Object.freeze({ ready, decompose, translate, run, runPrograms, builtins, quiz, check, render, version });
export default pagelab;
if (!window.pagelab) window.pagelab = pagelab;

// ---- the custom elements ----

/** Elements waiting to be drawn; drawn one per task, so the first appears as soon as it can. */
const queue = [];
let draining = false;

function enqueue(el) {
  if (!queue.includes(el)) queue.push(el);
  if (draining) return;
  draining = true;
  ready.then(drain, () => {
    for (const e of queue.splice(0)) e._fail(loadError);
    draining = false;
  });
}

async function drain() {
  while (queue.length) {
    const el = queue.shift();
    if (el.isConnected) el._draw();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  draining = false;
}

class PagelabElement extends HTMLElement {
  connectedCallback() {
    if (!this.shadowRoot) {
      const box = shadowBox(this);
      const wait = document.createElement('p');
      wait.className = 'pl-loading';
      wait.textContent = 'Loading pagelab…';
      box.append(wait);
      this._box = box;
      // Any attribute change redraws (a misspelt one too, so its message shows), except our own data-state;
      // so does a change to the scenario text inside the element.
      this._observer = new MutationObserver((records) => {
        if (records.some((r) => r.type !== 'attributes' || r.attributeName !== 'data-state')) enqueue(this);
      });
    }
    // The text inside too, for every kind: a scenario where none is taken is reported, and the report goes when it does.
    this._observer.observe(this, { attributes: true, childList: true, characterData: true, subtree: true });
    shaded.add(this);
    watchTheme();
    enqueue(this);
  }

  disconnectedCallback() {
    shaded.delete(this);
    this._observer?.disconnect();
    this._destroy();
  }

  /**
   * The scenario written inside the element: a <script type="text/plain"> child, or its own text. Never parsed as
   * HTML. Other elements inside it (a <p> that says the figure needs JavaScript) are for pages where the widgets
   * cannot load: the shadow root hides them, and they are not part of the scenario.
   */
  _text() {
    const t = [...this.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.data).join('');
    if (!KINDS[this.constructor.kind].inline) {
      if (t.trim()) throw new Error(`it takes no scenario (its settings are attributes: ${KINDS[this.constructor.kind].attributes.map((a) => `${a}=`).join(", ")}): remove the text inside it`);
      return null;
    }
    const scripts = this.querySelectorAll(':scope > script[type="text/plain"]');
    if (scripts.length > 1) {
      throw new Error(`it holds ${scripts.length} <script type="text/plain"> elements: write its scenario in one`);
    }
    // A script written in is a scenario given, even an empty one (which is then refused, not ignored).
    if (scripts.length) return scripts[0].textContent;
    return t.trim() ? t : null;
  }

  _destroy() {
    if (this._handle) {
      this._handle.destroy();
      this._handle.free();
      this._handle = null;
    }
  }

  _draw() {
    this._destroy();
    this._box.replaceChildren();
    shade(this, this._box);
    const attrs = {};
    for (const a of this.attributes) attrs[a.name] = a.value;
    try {
      this._handle = core.render(this._box, this.constructor.kind, attrs, this._text());
      this.dataset.state = this._handle.error ? 'error' : 'ready';
    } catch (e) {
      this._fail(e && e.message ? e.message : String(e));
    }
    this.dispatchEvent(new CustomEvent('pagelab-drawn', { bubbles: true, detail: { state: this.dataset.state } }));
  }

  _fail(message) {
    this._box.replaceChildren();
    const p = document.createElement('p');
    p.className = 'pl-error';
    p.setAttribute('role', 'alert');
    p.textContent = `<${this.localName}> cannot be shown: ${message}`;
    this._box.append(p);
    this.dataset.state = 'error';
  }
}

for (const [kind, spec] of Object.entries(KINDS)) {
  const tag = `pagelab-${kind}`;
  if (customElements.get(tag)) continue;
  customElements.define(tag, class extends PagelabElement {
    static kind = kind;
  });
}
