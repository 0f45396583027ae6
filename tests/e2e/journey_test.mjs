// The browser journey through the edge, in headless Chromium: new chat, a streamed markdown
// answer, a tool call card, stop, reload with history from the store. (The hub restarted under a
// subscribed browser is in hub_restart_test.mjs.)
//
// Works with either model the stack runs: the fake Bedrock is scripted with answers of the same
// shape as the demo model's canned ones (markdown with bold and a code block; a current_time tool
// call when asked the time; long answers streamed slowly).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { ASSISTANT, finishedAnswer as finishedAnswerOn, launchBrowser, openProductPage, sendMessage } from './lib/browser.mjs';
import { ProductionLikeStack } from './lib/production_like_stack.mjs';

const USER = '[data-testid="message"][data-role="user"]';

function countingText(words, offset = 0) {
  return Array.from({ length: words }, (_, i) => `w${i + 1 + offset}`).join(' ') + '.';
}

describe('the browser journey through the edge', () => {
  let stack;
  let browser;
  let page;
  let consoleErrors;

  before(async () => {
    stack = await ProductionLikeStack.start({ appAuth: 'token', model: 'demo', extraEnv: { agent: { AGENT_DEMO_DELAY: '40ms' } } });
    browser = await launchBrowser();
    ({ page, consoleErrors } = await openProductPage(browser, stack, 'alice'));
    await page.waitForSelector('body[data-ready="true"]');
  });

  after(async () => {
    if (browser) await browser.close().catch(() => {});
    if (stack) await stack.stop();
  });

  async function script(responses) {
    if (stack.model === 'fake-bedrock') await stack.scriptModel(responses);
  }

  async function send(text) {
    await sendMessage(page, text);
  }

  function finishedAnswer(n, timeout) {
    return finishedAnswerOn(page, n, timeout);
  }

  test('a new chat streams a markdown answer from the model into the page', async () => {
    await script([{
      kind: 'text',
      text: 'Here is **bold** and code:\n\n```cpp\nint main() { return 0; }\n```\n',
      stop_reason: 'end_turn',
    }]);
    await page.getByTestId('new-session').click();
    await page.locator('[data-testid="session-item"]').first().waitFor();
    await send('Show me a tiny C++ program');
    await page.locator(USER).filter({ hasText: 'Show me a tiny C++ program' }).waitFor();
    const answer = await finishedAnswer(1);
    assert.ok((await answer.locator('strong').count()) >= 1, 'bold text rendered as <strong>');
    assert.ok((await answer.locator('pre code').count()) >= 1, 'a code block rendered as <pre><code>');
    assert.ok(!(await answer.innerText()).includes('```'), 'no raw markdown fences on screen');
  });

  test('a tool call shows as a card and the answer uses its result', async () => {
    // The fake model asks for current_time when the question mentions time.
    await send('What time is it?');
    const answer = await finishedAnswer(2);
    await answer.locator('[data-testid="tool-call"]').first().waitFor();
    assert.match(await answer.locator('[data-testid="tool-call"]').first().innerText(), /current_time/);
    // The answer comes after the tool result and reports it (a time of day).
    assert.match(await answer.innerText(), /\d{1,2}:\d{2}/);
  });

  test('stop ends a running answer and keeps what was written', async () => {
    await script([{ kind: 'text', text: countingText(300), chunking: 16, delay_ms: 40, stop_reason: 'end_turn' }]);
    await send('Count for a long while');
    const answer = page.locator(ASSISTANT).nth(2);
    await page.waitForFunction((sel) => {
      const node = document.querySelectorAll(sel)[2];
      return node && node.innerText.trim().split(/\s+/).length >= 8;
    }, ASSISTANT);
    await page.getByTestId('stop').click();
    await finishedAnswer(3, 20_000);
    const kept = (await answer.innerText()).trim();
    assert.ok(kept.split(/\s+/).length >= 8, 'what was written is kept');
    // Nothing more arrives after the stop.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await answer.innerText()).trim(), kept);
  });

  test('after a reload the conversation comes back from the store', async () => {
    const before = await page.locator('[data-testid="message"]').count();
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForSelector('body[data-ready="true"]');
    await page.locator(USER).filter({ hasText: 'Count for a long while' }).waitFor();
    assert.equal(await page.locator('[data-testid="message"]').count(), before);
    assert.ok((await page.locator(`${ASSISTANT} pre code`).count()) >= 1, 'the markdown answer is back');
  });

  test('the page raised no script errors (CSP or otherwise) on the way', () => {
    const relevant = consoleErrors.filter((e) => !/EventSource|net::ERR_|Failed to load resource/.test(e));
    assert.deepEqual(relevant, []);
  });
});
