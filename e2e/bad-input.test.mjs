// Bad input of every kind a learner can give: each gets a clear message,
// the lab keeps its state, and the page stays alive (a normal action works after).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, linkFor, TINY_PREFIX, text, errorText, assertAlive, pick, exec, atStep, shot, twoFrames } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The tiny story prefix with pid 3 chosen (6 steps... after `fork 2`: step 5 of 5). */
async function ready() {
  const page = await open(browser, linkFor(TINY_PREFIX, '&pid=3'));
  await page.waitForSelector('#pick-3[aria-pressed="true"]');
  return page;
}

async function stepPos(page) {
  return text(page, '#step-pos');
}

const kinds = [];
/** One kind of bad input: `run` does it; the message must match `want`; `steps` is the step count after. */
function bad(name, want, run, { steps = 5, inline = false, near = null } = {}) {
  kinds.push(name);
  test(`bad input: ${name}`, async () => {
    const page = await ready();
    await run(page);
    let msg;
    if (inline) {
      await page.waitForFunction(() => document.querySelector('#address-error')?.textContent !== '');
      msg = await text(page, '#address-error');
      assert.equal(await page.getAttribute('#address', 'aria-invalid'), 'true');
    } else {
      msg = await errorText(page);
    }
    assert.match(msg, want, `${name}: the message was ${JSON.stringify(msg)}`);
    if (near) {
      // The message is next to the control that caused it, on screen with it.
      const a = await page.locator('#error-text').boundingBox();
      const b = await page.locator(near).boundingBox();
      assert.ok(a && b && Math.abs(a.y - b.y) < 300, `${name}: the message is ${a && b ? Math.abs(a.y - b.y) : '?'}px from ${near}`);
    }
    if (steps !== null) assert.equal(await stepPos(page), `Step ${steps} of ${steps}`, `${name}: the timeline changed`);
    if (kinds.indexOf(name) === 0) await shot(page, 'bad-input-message');
    await assertAlive(page, name);
    await page.close();
  });
}

const typeAddress = (v) => async (page) => { await page.fill('#address', v); };

bad('empty address', /type an address/, typeAddress(''), { inline: true });
bad('not hex', /g is not a hex digit/, typeAddress('0x12g4'), { inline: true });
bad('too wide for x86', /wider than 32 bits/, typeAddress('0x123456789'), { inline: true });
bad('negative address', /cannot be negative/, typeAddress('-4096'), { inline: true });
bad('letters in a decimal address', /a is not a decimal digit/, typeAddress('#12a4'), { inline: true });
bad('exec of a missing program', /exec failed: there is no file "nosuch"/, (p) => exec(p, 'nosuch', ''), { steps: 6, near: '#exec-run' });
bad('too many arguments (32)', /32 arguments, but sys_exec takes at most 31/, (p) => exec(p, 'echo', 'a '.repeat(31)), { steps: 6 });
bad('an argument that overflows the stack', /do not fit in the one-page stack/, (p) => exec(p, 'echo', 'x'.repeat(5000)), { steps: 6 });
bad('an unclosed quote in the arguments', /quote is not closed/, (p) => exec(p, 'echo', '"hello'));
bad('sbrk of a non-number', /not a whole number/, async (p) => { await p.fill('#sbrk-0', 'lots'); await p.click('#sbrk-run'); }, { near: '#sbrk-run' });
bad('sbrk too large', /sbrk failed/, async (p) => { await p.fill('#sbrk-0', '0x7fffffff'); await p.click('#sbrk-run'); }, { steps: 6 });
bad('fork of a dead process', /pid 3 is zombie: it cannot make system calls/, async (p) => {
  await p.click('#exit');
  await atStep(p, 6, 6);
  await p.click('#fork');
}, { steps: 6 });
bad('wait with no children', /no children/, (p) => p.click('#wait'), { steps: 6, near: '#wait' });
bad('exit of init', /xv6 would panic here \("init exiting"\)/, async (p) => { await pick(p, 1); await p.click('#exit'); });
bad('a load from a kernel page in init', /the load at 0x80000000 faults \(.*no user bit.*\); xv6 kills the faulting process, and pid 1 is init: its exit panics \("init exiting"\)/, async (p) => {
  await pick(p, 1); await p.fill('#read-0', '0x80000000'); await p.click('#read-run');
}, { near: '#read-run' });
bad('closeshmem of a never-opened id', /does not have that shared page open/, async (p) => {
  await p.fill('#closeshm-0', '7'); await p.click('#closeshm-run');
}, { steps: 6 });
bad('openshmem of id 0', /not a positive number/, async (p) => { await p.fill('#openshm-0', '0'); await p.click('#openshm-run'); }, { steps: 6 });
bad('read of an unmapped address (the process is killed)', /page fault at 0x403abc.*kills the process/, async (p) => {
  await p.fill('#read-0', '0x403abc'); await p.click('#read-run');
}, { steps: 6 });
bad('write to the guard page', /page fault at 0x2000.*no user bit/, async (p) => {
  // sh is 2 pages: text 0x0-0x1fff, guard 0x2000, stack 0x3000.
  await p.fill('#write-0', '0x2000'); await p.fill('#write-1', '1'); await p.click('#write-run');
}, { steps: 6 });
bad('write of a byte over 255', /too large for a byte/, async (p) => {
  await p.fill('#write-0', '0x3000'); await p.fill('#write-1', '300'); await p.click('#write-run');
});
bad('read of zero bytes', /out of range \(1 to 4096\)/, async (p) => {
  await p.fill('#read-0', '0x0'); await p.fill('#read-1', '0'); await p.click('#read-run');
});
bad('garbage ELF upload', /not an ELF file/, (p) => p.setInputFiles('#upload', {
  name: 'garbage.elf', mimeType: 'application/octet-stream', buffer: Buffer.from('MZ this is not an ELF file, just some bytes to be long enough'),
}), { near: '#upload' });
bad('an upload that is too large', /at most 1048576 bytes/, (p) => p.setInputFiles('#upload', {
  name: 'huge.elf', mimeType: 'application/octet-stream', buffer: Buffer.alloc((1 << 20) + 1, 0x7f),
}));
bad('an empty upload', /is empty/, (p) => p.setInputFiles('#upload', {
  name: 'empty.elf', mimeType: 'application/octet-stream', buffer: Buffer.alloc(0),
}));
bad('a frame address outside RAM', /not in RAM/, async (p) => { await p.fill('#goto-frame', '0x9000000'); await p.click('#goto-run'); }, { near: '#goto-run' });
bad('no memory during exec (kalloc made to fail)', /exec failed: out of memory; the new image was freed, the old one kept/, async (p) => {
  await p.click('details.more summary'); await p.fill('#failalloc-0', '3'); await p.click('#failalloc-run');
  await atStep(p, 6, 6);
  await exec(p, 'echo', 'hello');
}, { steps: 7 });
bad('failalloc of a non-number', /not a whole number/, async (p) => {
  await p.click('details.more summary'); await p.fill('#failalloc-0', 'soon'); await p.click('#failalloc-run');
});

/** A link that cannot be opened: a message and a clean lab (xv6-public, pid 1 made: step 1 of 1). */
function badLink(name, fragment, want) {
  kinds.push(name);
  test(`bad link: ${name}`, async () => {
    const page = await open(browser, fragment);
    const msg = await errorText(page);
    assert.match(msg, /This link could not be opened/);
    assert.match(msg, want, `${name}: the message was ${JSON.stringify(msg)}`);
    await atStep(page, 1, 1);
    assert.match(await text(page, '#mem-summary'), /^57344 frames/);
    // The address bar keeps the link, to be mended, until the lab changes.
    await twoFrames(page);
    await page.waitForTimeout(100);
    assert.equal(await page.evaluate(() => location.hash), fragment);
    await page.click('#fork');
    await atStep(page, 2, 2);
    await page.waitForFunction((f) => location.hash.startsWith('#lab=') && location.hash !== f, fragment);
    await assertAlive(page, name);
    // The same link pasted into an open lab (forked once): the lab stays as it was.
    const again = await ready();
    await again.click('#fork');
    await atStep(again, 6, 6);
    await again.evaluate((h) => { location.hash = h; }, fragment.slice(1));
    assert.match(await errorText(again), want);
    assert.match(await errorText(again), /The lab you had is still here/);
    await atStep(again, 6, 6);
    await assertAlive(again, `${name} (pasted)`);
    await page.close();
    await again.close();
  });
}

badLink('hand-edited base64', '#lab=$$$not-base64$$$', /not valid base64url/);
badLink('valid encoding, broken deflate', '#lab=aGVsbG8gd29ybGQ', /does not decompress/);
badLink('a scenario that does not parse', linkFor('userinit\nfrobnicate 1\n'), /line 2, column 1: unknown operation frobnicate/);
badLink('a scenario with a pid that does not exist', linkFor('userinit\nfork 9\n'), /operation 2 was refused: there is no process with pid 9/);
badLink('a step beyond the end', linkFor('userinit\n', '&step=7'), /asks for step 7, but its scenario has only 1 step/);
badLink('an unknown part', linkFor('userinit\n', '&colour=red'), /does not know: colour/);
badLink('a bad access code', linkFor('userinit\n', '&acc=zz'), /not one of ur, uw, ux, kr, kw/);

test('a link to a RISC-V story that does not open gives a clean RISC-V lab', async () => {
  const page = await open(browser, '#b=story-riscv&step=-3');
  const msg = await errorText(page);
  assert.match(msg, /the link's step -3 is not a step number \(0, 1, 2 and so on\)/);
  assert.match(msg, /Here is a clean lab of xv6-riscv instead/);
  await atStep(page, 1, 1);
  // xv6-riscv's 128 MB from KERNBASE: 32768 frames.
  assert.match(await text(page, '#mem-summary'), /^32768 frames/);
  // The lab works: a fork is step 2.
  await page.click('#fork');
  await atStep(page, 2, 2);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('at least 20 kinds of bad input are tried', () => {
  assert.ok(kinds.length >= 20, `only ${kinds.length} kinds`);
});
