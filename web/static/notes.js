// The notes page's own script: a sentence worked out with pagelab's JS API
// (the same module the widgets come from), to show the API in a page.
import pagelab, { ready } from './widgets/pagelab-widgets.js';

const out = document.getElementById('api-demo');
try {
  await ready;
  const text = document.querySelector('#w-lab script[type="text/plain"]').textContent;
  const r = pagelab.run(text);
  const sbrk = r.steps.find((s) => s.op.startsWith('sbrk'));
  const wait = r.steps[r.steps.length - 1];
  out.textContent = `pagelab's JS API, asked from this page: the scenario above has ${r.steps.length} steps on ` +
    `${r.preset}; “${sbrk.op}” allocates ${sbrk.counts.userAlloc} user pages and returns ${sbrk.result.value}; ` +
    `“${wait.op}” returns ${wait.result.value} and frees ${wait.counts.freed} pages, leaving ${wait.nfree} free.`;
} catch (e) {
  out.textContent = `pagelab's JS API could not be reached: ${e.message}`;
}

// A course page can collect answers: each <pagelab-quiz> sends a pagelab-answer event per answer.
const log = document.getElementById('answer-log');
const answers = [];
document.addEventListener('pagelab-answer', (e) => {
  const d = e.detail;
  answers.push(d);
  const right = answers.filter((a) => a.right).length;
  log.textContent = `Collected by this page from pagelab-answer events: ${answers.length} answered, ${right} right; ` +
    `last: question ${d.question}, ${d.result.replace('_', ' ')}` +
    (d.answer ? `, you wrote ${d.answer}` : '') + '.';
});
