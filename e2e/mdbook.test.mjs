// The widgets in an mdBook book, as web/widgets/README.md says to use them:
// dist/widgets/ copied into the book's src/, the classic loader in book.toml's
// additional-js, elements written in the Markdown. Skipped when mdbook is not
// installed (`cargo install --locked mdbook`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, ARTIFACTS } from './helpers.mjs';
import { serve } from './server.mjs';

let mdbook = null;
try {
  execFileSync('mdbook', ['--version'], { stdio: 'pipe' });
  mdbook = 'mdbook';
} catch { /* not installed */ }

/** The two ways web/widgets/README.md gives: theme/head.hbs, or book.toml's additional-js with the loader. */
const WAYS = {
  'theme/head.hbs': (dir) => {
    mkdirSync(join(dir, 'theme'));
    writeFileSync(join(dir, 'theme', 'head.hbs'), '<script type="module" src="{{ path_to_root }}widgets/pagelab-widgets.js"></script>\n');
    writeFileSync(join(dir, 'book.toml'), '[book]\ntitle = "Notes"\n');
  },
  'additional-js': (dir) => {
    writeFileSync(join(dir, 'book.toml'), '[book]\ntitle = "Notes"\n\n[output.html]\nadditional-js = ["src/widgets/pagelab-widgets-loader.js"]\n');
  },
};

for (const [way, setup] of Object.entries(WAYS)) test(`a widget in an mdBook chapter (${way})`, { skip: mdbook ? false : 'mdbook is not installed' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pagelab-book-'));
  try {
    mkdirSync(join(dir, 'src', 'part'), { recursive: true });
    cpSync(fileURLToPath(new URL('../dist/widgets/', import.meta.url)), join(dir, 'src', 'widgets'), { recursive: true });
    setup(dir);
    writeFileSync(join(dir, 'src', 'SUMMARY.md'), '# Summary\n\n- [Paging](part/paging.md)\n');
    writeFileSync(join(dir, 'src', 'part', 'paging.md'), [
      '# Paging', '', 'The top ten bits pick the page-directory entry:', '',
      '<pagelab-translate id="t" address="0x00403abc"></pagelab-translate>', '',
      'And a walk:', '', '<pagelab-walk id="w" scenario="story-x86" step="7" pid="3" address="0x2fcc"></pagelab-walk>', '',
    ].join('\n'));
    execFileSync(mdbook, ['build', dir], { stdio: 'pipe' });
    const server = await serve(join(dir, 'book'), 0, { csp: false });
    const browser = await launch();
    try {
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      await page.goto(`${server.url}part/paging.html`);
      await page.waitForFunction(() => ['t', 'w'].every((id) => document.getElementById(id)?.dataset.state === 'ready'), null, { timeout: 30000 });
      // 0x00403abc: PDX 1, PTX 3; 0x2fcc in pid 3 at step 7: PDX 0, PTX 2, mapped.
      assert.equal(await page.locator('#t [data-field="PDX"] .fhex').textContent(), '0x1');
      assert.equal(await page.locator('#t [data-field="PTX"] .fhex').textContent(), '0x3');
      assert.equal(await page.locator('#w [data-field="PTX"] .fhex').textContent(), '0x2');
      assert.equal(await page.locator('#w .pa').count(), 1);
      await page.screenshot({ path: `${ARTIFACTS}notes-mdbook-${way.replace(/\W+/g, '-')}.png` });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
