// The TLB in the lab: the growproc experiment as a learner runs it. The
// expected values come from xv6-public's code (see tlb-noflush-x86.txt):
// after sbrk(-4096) without growproc's switchuvm, slot 0 still maps page
// 0x1000 to the freed frame; fork's allocproc takes that frame (the head of
// the free list) for pid 3's kernel stack; pid 2's store lands there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, text, atStep, shot, assertAlive } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const SIZES = [['desktop', { width: 1440, height: 900 }], ['phone', { width: 390, height: 844 }]];

for (const [size, viewport] of SIZES) {
  test(`the growproc experiment: a stale TLB slot changes pid 3's kernel stack, and xv6's flush makes the store fault (${size})`, async () => {
    const page = await open(browser, '#b=tlb-noflush-x86', viewport);
    await atStep(page, 0, 8);
    // The what-if is on, and the panel says so in words.
    assert.equal(await page.isChecked('#noflush'), true);
    assert.match(await text(page, '#tlb-whatif'), /growproc returns without switchuvm/);
    // Step 4: pid 2's store misses and fills slot 0 with page 0x1000.
    await page.keyboard.press('n'); await page.keyboard.press('n'); await page.keyboard.press('n'); await page.keyboard.press('n');
    await atStep(page, 4, 8);
    assert.match(await text(page, '#tlb-counts'), /1 miss, 1 fill/);
    const row = page.locator('#tlb-table tr[data-slot="0"]');
    assert.match(await row.innerText(), /0x00001000/);
    assert.match(await row.innerText(), /says the same/);
    // The translate view follows the store: a TLB hit now (the slot is dirty).
    assert.match(await text(page, '#tlb-would'), /TLB hit and the MMU reads no page-table entry/);
    // Step 5: sbrk(-4096) frees the page, but slot 0 stays: STALE, the frame is free.
    await page.keyboard.press('n');
    await atStep(page, 5, 8);
    assert.match(await row.innerText(), /STALE: maps nothing here; the slot's frame is free/);
    // Step 8: the store hits slot 0 and lands in pid 3's kernel stack.
    await page.keyboard.press('n'); await page.keyboard.press('n'); await page.keyboard.press('n');
    await atStep(page, 8, 8);
    assert.match(await row.innerText(), /kernel stack of pid 3/);
    assert.match(await text(page, '#tlb-would'), /STALE: the table now maps nothing here/);
    assert.match(await text(page, '#step-detail'), /lands in a frame that belongs to someone else: kernel stack of pid 3/);
    // The slot's frame, chosen in the frame map, is pid 3's kernel stack; the store copied "C" (0x43) into it.
    await row.locator('button.addr').click();
    assert.match(await text(page, '#frame-info'), /kernel stack of pid 3/);
    assert.match(await text(page, '#step-detail'), /copyout 0x1010: "C"/);
    await shot(page, `tlb-noflush-${size}`, '#panel-tlb', false);
    // Turn xv6's flush back on: the store in step 6 faults, and the timeline ends there.
    await page.click('#noflush');
    await atStep(page, 6, 6);
    assert.equal(await page.isChecked('#noflush'), false);
    assert.match(await text(page, '#tlb-notice'), /with growproc's switchuvm, as xv6 does\. Step 7 cannot run/);
    assert.match(await text(page, '#step-detail'), /TLB miss for 0x1008/);
    assert.match(await text(page, '#step-detail'), /page fault at 0x1008/);
    await assertAlive(page, 'after the what-if switch');
  });
}
