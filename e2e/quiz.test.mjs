// Predict, then check: a learner answers right and wrong, asks for hints, gives
// up, finishes a set, downloads the attempt log and checks what is in it,
// reloads the link and goes on, all with the keyboard; unreadable answers get
// a message and leave the page working; predict mode asks about an operation
// the learner runs. The answers are worked out by hand from xv6-public's exec
// (see core/tests/quiz.rs): init's stack "/init\0" at 0x2ff8 and five words
// below it, sp = 0x2fe4; the guard page 0x1000 keeps PTE_P|PTE_W; exec
// allocates 3 user pages and 66 page tables and frees 1 and 66.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launch, open, text, atStep, shot, linkFor, tabTo } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const SIZES = [['desktop', { width: 1440, height: 900 }], ['phone', { width: 390, height: 844 }]];

/** A set of three questions about init's exec, as an instructor writes it. */
const SET = 'preset xv6-public\nuserinit\nask sp 1\nask guard 1\nask pages\nexec 1 /init\n';
const SET_LINK = linkFor(SET, '&quiz=1&auto=2&seed=0');

async function score(page) {
  return (await text(page, '#quiz-score')).replace(/\s+/g, ' ').trim();
}

async function questionNumber(page) {
  return page.getAttribute('#question', 'data-question');
}

/** Press Shift+Tab until the element with `id` has the focus (at most `max` times). */
async function tabBackTo(page, id, max = 20) {
  let at = '';
  for (let i = 0; i < max && at !== id; i++) {
    await page.keyboard.press('Shift+Tab');
    at = await page.evaluate(() => document.activeElement?.id);
  }
  return at;
}

/** Type `value` into the focused field's place: select what is there, type, Enter. */
async function typeAndEnter(page, value) {
  await page.keyboard.press('Control+A');
  await page.keyboard.type(value);
  await page.keyboard.press('Enter');
}

for (const [size, viewport] of SIZES) {
  test(`a learner works through a set with the keyboard, downloads the log, reloads and goes on (${size})`, async () => {
    const page = await open(browser, SET_LINK, viewport);
    await page.waitForSelector('#question');
    await atStep(page, 1, 2);
    assert.equal(await questionNumber(page), '1');
    assert.match(await text(page, '#q-prompt'), /what is pid 1's stack pointer, sp\?/);
    // Forward is refused while a question is open; the message says which.
    await page.keyboard.press('n');
    await page.waitForSelector('#steps-notice #info-text');
    assert.match(await text(page, '#steps-notice'), /Predict first: answer question 1 \(before step 2\)/);
    await atStep(page, 1, 2);
    // The address space would show sp: it is hidden.
    assert.equal(await page.locator('#hidden-space').count(), 1);
    assert.match(await text(page, '#hidden-space'), /Hidden until you answer question 1/);
    // The question's answer field took the focus.
    await page.waitForFunction(() => document.activeElement?.id === 'answer');
    // Question 1, right: type, Enter.
    await typeAndEnter(page, '0x2fe4');
    await page.waitForFunction(() => document.querySelector('#question')?.dataset.question === '2');
    // The focus moved on to the next question's field.
    await page.waitForFunction(() => document.activeElement?.id === 'answer');
    assert.match(await text(page, '#verdict-1'), /✓ Right/);
    assert.match(await score(page), /^Score: 1 right of 3/);
    // Question 2, a hint first, then a wrong answer: the verdict says what decides it.
    assert.equal(await tabTo(page, 'answer-hint', 10), 'answer-hint');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#hints li');
    assert.match(await text(page, '#hints'), /two pages right above the program's last page/);
    assert.equal(await tabBackTo(page, 'answer', 10), 'answer');
    await typeAndEnter(page, '0x1000 PTE_P|PTE_W|PTE_U');
    await page.waitForFunction(() => document.querySelector('#question')?.dataset.question === '3');
    const v2 = await text(page, '#verdict-2');
    assert.match(v2, /✗ Wrong/);
    assert.match(v2, /the flags are PTE_P\|PTE_W, not PTE_P\|PTE_W\|PTE_U/);
    assert.match(v2, /clearpteu clears PTE_U/);
    assert.match(v2, /with 1 hint/);
    // Question 3: four boxes; give up instead.
    assert.equal(await page.locator('#question input').count(), 4);
    assert.equal(await tabTo(page, 'answer-giveup', 20), 'answer-giveup');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#verdict-3');
    assert.match(await text(page, '#verdict-3'), /Given up/);
    assert.match(await text(page, '#verdict-3'), /The answer is 3 1 66 66/);
    assert.match(await score(page), /^Score: 1 right of 3 \(1 wrong, 1 given up, 0 to go\)/);
    // The set is done at this step: the focus is on the button that shows it.
    await page.waitForFunction(() => document.activeElement?.id === 'q-reveal');
    await shot(page, `quiz-done-${size}`, null, false);
    // The log, as JSON and CSV.
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#log-json')]);
    assert.match(dl.suggestedFilename(), /\.json$/);
    const log = JSON.parse(readFileSync(await dl.path(), 'utf8'));
    assert.equal(log.set, "this scenario's questions");
    assert.equal(log.seed, '0');
    assert.equal(log.preset, 'xv6-public');
    assert.equal(log.total, 3);
    assert.equal(log.right, 1);
    assert.deepEqual(log.questions.map((q) => [q.ask, q.result, q.answer, q.expected, q.hints]), [
      ['ask sp 1', 'right', '0x2fe4', '0x2fe4', 0],
      ['ask guard 1', 'wrong', '0x1000 PTE_P|PTE_W|PTE_U', '0x1000 PTE_P|PTE_W', 1],
      ['ask pages', 'gave_up', '', '3 1 66 66', 0],
    ]);
    for (const q of log.questions) assert.match(q.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const [dc] = await Promise.all([page.waitForEvent('download'), page.click('#log-csv')]);
    const rows = readFileSync(await dc.path(), 'utf8').trim().split('\n');
    assert.equal(rows.length, 4);
    assert.equal(rows[0], 'set,seed,student,preset,question,step,ask,result,answer,expected,hints,unreadable,time,seconds');
    assert.match(rows[2], /^this scenario's questions,0,,xv6-public,2,2,ask guard 1,wrong,0x1000 PTE_P\|PTE_W\|PTE_U,0x1000 PTE_P\|PTE_W,1,0,/);
    // Reload the link: the progress is kept.
    await page.reload();
    await page.waitForSelector('#quiz-score');
    assert.match(await score(page), /^Score: 1 right of 3 \(1 wrong, 1 given up, 0 to go\)/);
    assert.match(await text(page, '#verdict-2'), /✗ Wrong/);
    // Now Forward (n, pressed on the button that shows the step) shows step 2,
    // and the address space is back; the focus stays in the panel, not lost
    // with the button.
    await page.focus('#q-reveal');
    await page.keyboard.press('n');
    await atStep(page, 2, 2);
    assert.equal(await page.locator('#hidden-space').count(), 0);
    assert.match(await text(page, '#q-all'), /Every question is settled: 1 right of 3/);
    await page.waitForFunction(() => document.activeElement?.closest('#panel-quiz') !== null);
    // The answers about step 2 stay beside it, to check against what it did.
    assert.match(await text(page, '#shown-verdicts'), /What you predicted for step 2, shown now/);
    assert.match(await text(page, '#shown-verdicts #verdict-2'), /✗ Wrong/);
    assert.deepEqual(page.errors, []);
    await page.close();
  });
}

// Each unreadable answer, the question it is typed into (by kind), and what the message says.
const UNREADABLE = [
  ['sp', '', /nothing is written/],
  ['sp', '-0x10', /without a sign/],
  ['sp', '0xzz', /z is not a hex digit/],
  ['sp', '#12a', /a is not a decimal digit/],
  ['sp', '0x1_0000_0000_0000_0000', /too large/],
  ['argc', 'two', /t is not a decimal digit/],
  ['guard', '0x1000', /then its flags/],
  ['guard', '0x1000 PTE_Q', /PTE_Q is not a flag here/],
  ['translate', 'fault', /at which level/],
  ['translate', 'fault PTY no-user', /PTY is neither a level/],
  ['translate', '0x1 0x2', /one physical address/],
  ['fields', '0 2', /write 3 numbers/],
  ['fields', 'PDX=0 PGX=2 offset=0', /PGX is not a field here/],
];

test('unreadable answers get a message next to the field, and the lab keeps working', async () => {
  // One question of each kind before init's exec, in this order.
  const set = 'preset xv6-public\nuserinit\nask sp 1\nask argc 1\nask guard 1\nask translate 1 0x1000 user-read\nask fields 0x2fcc\nexec 1 /init\n';
  const page = await open(browser, linkFor(set, '&quiz=1&auto=2'));
  await page.waitForSelector('#question');
  const order = ['sp', 'argc', 'guard', 'translate', 'fields'];
  const right = { sp: '0x2fe4', argc: '1', guard: '0x1000 P W', translate: 'fault PTX no-user', fields: '0 2 0xfcc' };
  for (const kind of order) {
    assert.equal(await page.getAttribute('#question', 'data-kind'), kind);
    const n = await questionNumber(page);
    for (const [k, bad, says] of UNREADABLE.filter(([k]) => k === kind)) {
      if (kind === 'fields') {
        // The fields question has a box per field; an unreadable part is still refused.
        const parts = bad.includes('=') ? [bad, '', ''] : bad.split(' ').concat(['', '', '']).slice(0, 3);
        for (let i = 0; i < 3; i++) await page.fill(`#answer-${i}`, parts[i] ?? '');
        if (bad.includes('=')) {
          // With NAME= in the first box the others are empty: the page asks to fill them.
          await page.click('#answer-check');
          await page.waitForSelector('#quiz-notice #error-text');
          assert.match(await text(page, '#quiz-notice'), /fill in every box/);
          continue;
        }
      } else {
        await page.fill('#answer', bad);
      }
      await page.click('#answer-check');
      await page.waitForSelector('#quiz-notice #error-text');
      const msg = await text(page, '#quiz-notice');
      if (kind !== 'fields') assert.match(msg, says, `${k} ${JSON.stringify(bad)}`);
      // Nothing was counted: the same question is still open.
      assert.equal(await questionNumber(page), n);
      assert.equal(await page.isHidden('#panic'), true);
    }
    if (kind === 'fields') {
      for (const [i, v] of ['0', '2', '0xfcc'].entries()) await page.fill(`#answer-${i}`, v);
    } else {
      await page.fill('#answer', right[kind]);
    }
    await page.click('#answer-check');
    await page.waitForSelector(`#verdict-${n}`);
    assert.match(await text(page, `#verdict-${n}`), /✓ Right/, `${kind}: ${await text(page, `#verdict-${n}`)}`);
  }
  assert.match(await score(page), /^Score: 5 right of 5/);
  // The log counts the unreadable tries.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#log-json')]);
  const log = JSON.parse(readFileSync(await dl.path(), 'utf8'));
  assert.deepEqual(log.questions.map((q) => q.unreadable), [5, 1, 2, 3, 0]);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('predict mode on a built-in story, and on an operation the learner runs', async () => {
  const page = await open(browser, '#b=story-riscv&step=4');
  await page.click('#predict');
  assert.equal(await page.getAttribute('#predict', 'aria-pressed'), 'true');
  await page.waitForSelector('#question');
  // Before step 5 (fork 2): the questions made for a fork. The child gets sh's
  // 5 pages on xv6-riscv (2 text, 1 data, guard, stack).
  assert.match(await text(page, '#q-pos'), /before step 5: fork 2/);
  assert.equal(await page.getAttribute('#question', 'data-kind'), 'child');
  await page.fill('#answer', '5');
  await page.click('#answer-check');
  await page.waitForSelector('#verdict-1');
  assert.match(await text(page, '#verdict-1'), /✓ Right/);
  // Turn it off; load the x86 story and turn it on at the end; run exec of echo in pid 3.
  await page.click('#predict-off');
  await page.waitForSelector('#predict[aria-pressed="false"]');
  assert.equal(await page.locator('#panel-quiz').count(), 0);
  await page.goto(`${page.url().split('#')[0]}#b=story-x86&step=9`);
  await page.waitForSelector('#step-pos');
  await page.click('#predict');
  await page.waitForSelector('#quiz-notice .info-text');
  await page.click('#pick-2');
  await page.fill('#program', 'echo');
  await page.fill('#args', 'hi');
  await page.click('#exec-run');
  // The step is made (step 10) but the lab shows step 9 and asks first.
  await page.waitForSelector('#question');
  await atStep(page, 9, 10);
  // The exec form's panel is hidden now; the keyboard goes to the first question's first box.
  await page.waitForFunction(() => document.activeElement?.id === 'answer-0');
  assert.match(await text(page, '#quiz-notice'), /exec 2 echo hi is step 10\. Predict what it does first: 5 questions/);
  // sh on xv6-public is 2 pages; echo's exec allocates 3 user pages and 66 page tables,
  // and frees sh's 4 user pages and its 66.
  await page.fill('#answer-0', '3');
  await page.fill('#answer-1', '4');
  // A box that does not read as a number: the message names it, and the
  // keyboard goes to that box, marked invalid, with its text selected to retype.
  await page.fill('#answer-2', 'abc');
  await page.fill('#answer-3', '66');
  await page.click('#answer-check');
  await page.waitForFunction(() => document.activeElement?.id === 'answer-2');
  assert.match(await text(page, '#quiz-notice'), /page-table pages allocated/);
  assert.equal(await page.getAttribute('#answer-2', 'aria-invalid'), 'true');
  assert.equal(await page.getAttribute('#answer-0', 'aria-invalid'), null);
  await page.keyboard.type('66');
  await page.click('#answer-check');
  await page.waitForSelector('#verdict-1');
  assert.match(await text(page, '#verdict-1'), /✓ Right/);
  // "echo\0" at 0x2ff8, "hi\0" at 0x2ff4, then 3 + 2 + 1 = 6 words: sp = 0x2ff4 − 24 = 0x2fdc.
  await page.fill('#answer', '0x2fdc');
  await page.click('#answer-check');
  await page.waitForSelector('#verdict-2');
  assert.match(await text(page, '#verdict-2'), /✓ Right/);
  await shot(page, 'quiz-learner-op-desktop', null, false);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('while a question asks where an address ends up, the frame map does not say which address maps a frame', async () => {
  // init's stack page on xv6-public is frame 0xdf77000 (worked out by hand in
  // lab.test.mjs's vmprint test): with the virtual address that maps it, it
  // would answer "where does pid 1's read at 0x2fe4 end up" (0xdf77fe4).
  const page = await open(browser, linkFor('preset xv6-public\nuserinit\nexec 1 /init\nask translate 1 0x2fe4 user-read\n', '&quiz=1&auto=2&seed=0'));
  await page.waitForSelector('#question');
  await page.fill('#goto-frame', '0xdf77000');
  await page.click('#goto-run');
  await page.waitForSelector('#frame-mappers');
  const hidden = await text(page, '#frame-mappers');
  assert.match(hidden, /^Mapped by: pid 1 \(at which address, and by which entry, is shown once the open question is answered: it would give the answer away\)\.$/);
  assert.doesNotMatch(hidden, /va|0x/);
  // Nor does the timeline's account of exec, whose mappages wrote that entry (0x0df77007).
  assert.match(await text(page, '#step-detail'), /Its events are shown once you answer question 1/);
  assert.doesNotMatch(await text(page, '#step-detail'), /0df77/);
  await page.click('#answer-giveup');
  await page.waitForSelector('#verdict-1');
  assert.match(await text(page, '#verdict-1'), /0xdf77fe4/);
  await page.waitForFunction(() => document.getElementById('frame-mappers')?.textContent.includes('at va'));
  assert.equal(await text(page, '#frame-mappers'), 'Mapped by: pid 1 at va 0x00002000 (pte 0x0df77007)');
  assert.equal(await page.locator('#step-events-hidden').count(), 0);
  await page.waitForSelector('#step-detail details, #step-detail li');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a set chosen from the menu with a student id gives the same questions again', async () => {
  const asks = [];
  for (let i = 0; i < 2; i++) {
    const page = await open(browser, '');
    await page.click('#predict');
    await page.click('#sets summary');
    await page.selectOption('#set-pick', 'quiz-exec-riscv');
    await page.fill('#set-student', 's1234');
    await page.click('#set-start');
    await page.waitForSelector('#question');
    // FNV-1a of "s1234" (core/tests/cli.rs).
    assert.match(await text(page, '#quiz-set'), /quiz-exec-riscv, seed 11837164609382783398 \(student s1234\)/);
    // The address bar follows the new lab a moment later (the lab before it had a qa= part too).
    await page.waitForFunction(() => location.hash.startsWith('#set=') && location.hash.includes('&qa='));
    assert.match(page.url(), /#set=quiz-exec-riscv&step=\d+&seed=11837164609382783398&who=czEyMzQ&qa=/);
    asks.push(await text(page, '#q-prompt'));
    await page.close();
  }
  assert.equal(asks[0], asks[1]);
});
