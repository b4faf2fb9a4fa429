// Running the real programs in the lab: the learner boots the machine, init
// starts sh, and the learner types commands at sh's prompt and reads what
// the programs print; deep recurses until its stack reaches the guard page
// and is killed, and the lab shows the walk of the store that faulted.
// The lab opens on xv6-public, whose programs run on the x86 CPU; a link to
// an xv6-riscv lab runs them on the RISC-V CPU.
//
// Worked by hand from the programs (user/README.md) and xv6-riscv:
// - init prints "init: starting sh", sh prints "$ " on fd 2 and reads a line;
//   the console echoes what is typed.
// - `echo hello world` prints "hello world"; `echo` alone prints an empty
//   line; a command that is no program makes sh print "exec NAME failed".
// - pids: init 1, sh 2, each command's child 3, 4, 5 (sh forks once a line).
// - deep on xv6-riscv: its stack is the page 0x3000-0x3fff (its two pages of
//   image, then the guard page 0x2000); each call takes 1056 bytes, so three
//   fit and the fourth stores into the guard page, whose L0 entry has no
//   PTE_U: a store page fault (scause 15) that usertrap reports and answers
//   by killing it. On xv6-public deep's image is one page, so the guard page
//   is 0x1000 and the stack 0x2000-0x2fff; the fault is trap 14 with error
//   code 7 (present, write, user), reported by trap() as "--kill proc".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launch, open, text, tabTo, shot, audit, linkFor } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** What xv6-public (2 CPUs) prints as it boots, before init's first line. */
const X86_BOOT = 'cpu1: starting 1\ncpu0: starting 0\nsb: size 1000 nblocks 941 ninodes 200 nlog 30 logstart 2 inodestart 32 bmap start 58\n';

/** Boot the programs on the lab's machine, by keyboard only. */
async function boot(page) {
  assert.equal(await tabTo(page, 'run-start', 200), 'run-start', 'Boot and run init is reachable with Tab');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#console');
  await page.waitForFunction(() => document.getElementById('console').textContent.endsWith('$ '));
  // The start button is gone: the line for sh has the focus.
  await page.waitForFunction(() => document.activeElement?.id === 'run-input');
}

/** Type `line` in sh's field and send it with Enter; wait for the next prompt. */
async function say(page, line) {
  const before = (await text(page, '#console')).length;
  await page.focus('#run-input');
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
  await page.waitForFunction((n) => {
    const t = document.getElementById('console').textContent;
    return t.length > n && t.endsWith('$ ');
  }, before);
}

test('a learner types three commands at sh on xv6-public and reads their output', async () => {
  const page = await open(browser);
  await boot(page);
  assert.match(await text(page, '#panel-run .help'), /32-bit x86 CPU runs init, sh, echo and deep: pagelab's own programs for xv6-public/);
  // xv6-public's kernel as it boots: mpmain on CPU 1, then CPU 0; the first forkret reads the superblock.
  assert.equal(await text(page, '#console'), `${X86_BOOT}init: starting sh\n$ `);
  // init sleeps in wait and sh in read: the process table says so.
  assert.deepEqual(await page.locator('#panel-procs .ptable tbody td:nth-child(3)').allTextContents(), ['sleeping', 'sleeping']);
  await say(page, 'echo hello world');
  await say(page, 'echo');
  await say(page, 'nosuch thing');
  assert.equal(
    await text(page, '#console'),
    `${X86_BOOT}init: starting sh\n$ echo hello world\nhello world\n$ echo\n$ nosuch thing\nexec: fail\nexec nosuch failed\n$ `,
  );
  // The timeline followed: the last command's child is pid 5, and it exited.
  const steps = await text(page, '#step-pos');
  const [, k, n] = steps.match(/Step (\d+) of (\d+)/).map(Number);
  assert.equal(k, n, 'the lab shows the last step');
  // sh's fprintf writes "exec nosuch failed" a byte a write, as xv6's does,
  // then the child exits, and sh's printf of "$ " is two more one-byte writes.
  assert.match(await text(page, '#run-trips'), /(pid 5: write\(2, 0x[0-9a-f]+, 1\) = 1){5}pid 5: exit\(\)pid 2: wait\(\) = 5(pid 2: write\(2, 0x[0-9a-f]+, 1\) = 1){2}/);
  assert.match(await text(page, '#run-counts'), /system calls\s*\d+/);
  assert.match(await text(page, '#run-notice'), /type a line/);
  // deep (sh's fourth child, pid 6) on x86: killed by trap() on the guard page 0x1000-0x1fff,
  // the store walked in the translate panel.
  await say(page, 'deep');
  assert.match(await text(page, '#console'), /pid 6 deep: trap 14 err 7 on cpu 0 eip 0x[0-9a-f]+ addr 0x1[0-9a-f]{3}--kill proc\n\$ $/);
  assert.match(await page.inputValue('#address'), /^0x1[0-9a-f]{3}$/);
  assert.match(await text(page, '#panel-translate'), /no user bit/);
  assert.deepEqual(await audit(page), [], 'axe-core finds no serious or critical problem');
  await shot(page, 'run-panel', '#panel-run');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('on xv6-riscv deep stops at the guard page, and the translate panel shows the walk of its faulting store', async () => {
  const page = await open(browser, linkFor('preset xv6-riscv\n'), { width: 390, height: 844 });
  await boot(page);
  await say(page, 'deep');
  const out = await text(page, '#console');
  assert.equal((out.match(/^deep: depth \d+, a kilobyte of stack from 0x3[0-9a-f]{3}$/gm) || []).length, 3, out);
  assert.match(out, /usertrap\(\): unexpected scause 0xf pid=3\n\s+sepc=0x[0-9a-f]+ stval=0x2[0-9a-f]{3}\n\$ $/);
  // The lab shows pid 3's exit step with the faulting store chosen.
  assert.match(await text(page, '#step-detail'), /exit/);
  assert.match(await page.inputValue('#address'), /^0x2[0-9a-f]{3}$/);
  const walk = await text(page, '#panel-translate');
  assert.match(walk, /PTE_U/);
  assert.match(walk, /no user bit/);
  assert.match(await text(page, '#run-faults'), /pid 3: store at 0x2[0-9a-f]{3}/);
  await shot(page, 'run-deep-phone');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a program the learner uploads runs under sh after Boot and run init', async () => {
  // pagelab's deep for xv6-riscv, uploaded as "mine": sh finds /mine, and it
  // runs into its guard page as deep does (three kilobyte frames, then the fault).
  const page = await open(browser, linkFor('preset xv6-riscv\n'));
  await page.setInputFiles('#upload', { name: 'mine', mimeType: 'application/octet-stream', buffer: readFileSync(new URL('../core/programs/riscv/deep', import.meta.url)) });
  await page.waitForFunction(() => /\/mine added/.test(document.getElementById('upload-notice')?.textContent || ''));
  await boot(page);
  await say(page, 'mine');
  const out = await text(page, '#console');
  assert.equal((out.match(/^deep: depth \d+/gm) || []).length, 3, out);
  assert.match(out, /usertrap\(\): unexpected scause 0xf pid=3/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('sh pipes into a second shell and reads commands from a file it wrote', async () => {
  // Worked from sh (user/README.md): the inner sh prints its prompt "$ " on
  // the console before each line it reads and once more before the end of
  // its input, then exits; the outer sh prompts again. `> cmd` creates the
  // file (O_WRONLY|O_CREATE) and echo writes "echo via a file\n" into it.
  const page = await open(browser);
  await boot(page);
  await say(page, 'echo echo piped | sh');
  await say(page, 'echo echo via a file > cmd');
  await say(page, 'sh < cmd');
  assert.equal(
    await text(page, '#console'),
    `${X86_BOOT}init: starting sh\n$ echo echo piped | sh\n$ piped\n$ $ echo echo via a file > cmd\n$ sh < cmd\n$ via a file\n$ $ `,
  );
  assert.match(await text(page, '#run-trips'), /pid \d+: read\(0, 0x[0-9a-f]+, 1\): sleeps until a line is typed/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a line that is too long is refused with the reason, and the lab keeps running', async () => {
  const page = await open(browser);
  await boot(page);
  await page.fill('#run-input', 'x'.repeat(200));
  await page.press('#run-input', 'Enter');
  await page.waitForFunction(() => /at most 127/.test(document.getElementById('run-notice')?.textContent || ''));
  assert.equal(await text(page, '#console'), `${X86_BOOT}init: starting sh\n$ `);
  // The refused line stays in the field, to be shortened.
  assert.equal(await page.inputValue('#run-input'), 'x'.repeat(200));
  await page.fill('#run-input', '');
  await say(page, 'echo still here');
  assert.match(await text(page, '#console'), /still here\n\$ $/);
  // Type only, then step: the line waits; one instruction does not print it; Run runs to the next prompt.
  await page.fill('#run-input', 'echo step by step');
  await page.click('#run-type-only');
  await page.waitForFunction(() => /nothing has run yet/.test(document.getElementById('run-notice')?.textContent || ''));
  await page.click('#run-step');
  await page.waitForSelector('#run-next');
  assert.doesNotMatch(await text(page, '#console'), /step by step\n\$ $/);
  await page.click('#run-go');
  await page.waitForFunction(() => document.getElementById('console').textContent.endsWith('step by step\n$ '));
  await page.waitForSelector('#run-go');
  // More lines than the console shows at once: it keeps its newest line in sight.
  for (const w of ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight']) await say(page, `echo ${w}`);
  const { top, height, full } = await page.evaluate(() => {
    const c = document.getElementById('console');
    return { top: c.scrollTop, height: c.clientHeight, full: c.scrollHeight };
  });
  assert.ok(full > height, `the console overflows: ${full} > ${height}`);
  assert.ok(top + height >= full - 2, `scrolled to the end: ${top} + ${height} of ${full}`);
  // A step back on the timeline: the panel says the programs are at its end; forward again, it says nothing.
  const [, last] = (await text(page, '#step-pos')).match(/of (\d+)/);
  await page.click('#back');
  await page.waitForFunction((n) => document.getElementById('run-behind')?.textContent.startsWith(`You are looking at step ${n - 1} of ${n}.`), Number(last));
  await page.click('#forward');
  await page.waitForFunction(() => !document.getElementById('run-behind'));
  // Ending the programs asks first; the focus goes to Keep them, and Enter keeps them.
  await page.click('#run-stop');
  await page.waitForSelector('#run-stop-yes');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'run-stop-no');
  // Escape keeps them too.
  await page.keyboard.press('Escape');
  await page.waitForSelector('#run-stop');
  assert.equal(await page.locator('#run-stop-yes').count(), 0);
  await page.click('#run-stop');
  await page.waitForSelector('#run-stop-yes');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#run-stop');
  assert.equal(await page.locator('#run-stop-yes').count(), 0);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'run-stop');
  assert.match(await text(page, '#console'), /eight\n\$ $/);
  // End them: the machine and its console go, the timeline stays.
  const steps = await text(page, '#step-pos');
  await page.click('#run-stop');
  await page.click('#run-stop-yes');
  await page.waitForSelector('#run-start');
  assert.equal(await page.locator('#console').count(), 0);
  assert.match(await text(page, '#run-notice'), /The programs are stopped/);
  assert.equal(await text(page, '#step-pos'), steps);
  assert.deepEqual(page.errors, []);
  await page.close();
});
