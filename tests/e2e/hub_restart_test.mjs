// The hub restarted while a browser is subscribed, through the edge in headless Chromium: the
// stream resumes, and the answer on screen is exactly the one the store holds (what a fresh page
// renders from history), with no delta missing or doubled.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { ASSISTANT, finishedAnswer as finishedAnswerOn, launchBrowser, openProductPage, sendMessage } from './lib/browser.mjs';
import { ProductionLikeStack } from './lib/production_like_stack.mjs';


function countingText(words) {
  return Array.from({ length: words }, (_, i) => `w${i + 1}`).join(' ') + '.';
}

describe('the hub restarts under a subscribed browser', () => {
  let stack;
  let browser;
  let page;

  before(async () => {
    stack = await ProductionLikeStack.start({ appAuth: 'token', model: 'demo', extraEnv: { agent: { AGENT_DEMO_DELAY: '40ms' } } });
    browser = await launchBrowser();
    ({ page } = await openProductPage(browser, stack, 'alice'));
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

  test('the hub restarted mid-answer: the page shows the whole answer once, nothing missing or doubled', async (t) => {
    await script([{ kind: 'text', text: countingText(200), chunking: 12, delay_ms: 30, stop_reason: 'end_turn' }]);
    await page.getByTestId('new-session').click();
    await page.locator('[data-testid="session-item"]').first().waitFor();
    const index = 0;
    await send('Write a long answer, please');
    await page.waitForFunction(([sel, i]) => {
      const node = document.querySelectorAll(sel)[i];
      return node && node.innerText.trim().split(/\s+/).length >= 5;
    }, [ASSISTANT, index]);
    const restart = await stack.restartComponent('hub', { signal: 'SIGTERM' });
    assert.equal(restart.code, 0, 'the hub stopped cleanly');
    const answer = await finishedAnswer(index + 1, 90_000);
    // The store's copy, as a second, fresh page renders it from history.
    const second = await openProductPage(browser, stack, 'alice');
    try {
      await second.page.goto(page.url(), { waitUntil: 'domcontentloaded' });
      await second.page.waitForSelector('body[data-ready="true"]');
      const storedAnswer = second.page.locator(ASSISTANT).nth(index);
      await storedAnswer.waitFor();
      await second.page.waitForFunction(([sel, i]) => document.querySelectorAll(sel)[i]?.getAttribute('aria-busy') === 'false', [ASSISTANT, index]);
      const stored = (await storedAnswer.innerText()).trim();
      assert.ok(stored.split(/\s+/).length >= 20, `a whole answer: ${stored.slice(0, 120)}`);
      // The live page may redraw the turn from the store just after it ends; give it a moment.
      let live = '';
      let waited = 0;
      for (; waited <= 10_000; waited += 250) {
        live = (await answer.innerText()).trim();
        if (live === stored) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      t.diagnostic(`the live page matched the store ${waited} ms after the turn ended on screen`);
      assert.equal(live, stored);
    } finally {
      await second.context.close();
    }
  });

});
