// The browser journey through the edge, in headless Chromium, with the fake Bedrock as the model
// (SigV4-checked ConverseStream with event-stream frames, tool use as Bedrock encodes it): new
// chat, a streamed markdown answer, a tool call card, stop, reload with history from the store,
// rename and delete, and the same product opened through a published loopback port (as
// scripts/prod_like.sh --publish relays it). The hub restarted under a subscribed browser is in
// hub_restart_test.mjs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { ASSISTANT, finishedAnswer as finishedAnswerOn, launchBrowser, openProductPage, sendMessage } from './lib/browser.mjs';
import { ProductUser } from './lib/product_user.mjs';
import { ProductionLikeStack } from './lib/production_like_stack.mjs';
import { publishedOrigins, startTcpRelay } from './lib/tcp_relay.mjs';

const USER = '[data-testid="message"][data-role="user"]';
const ITEM = '[data-testid="session-item"]';

function countingText(words, offset = 0) {
  return Array.from({ length: words }, (_, i) => `w${i + 1 + offset}`).join(' ') + '.';
}

// The content blocks of the Converse messages one model call carried.
function blocksOf(call, role) {
  return (call.body?.messages || []).filter((m) => m.role === role).flatMap((m) => m.content || []);
}

describe('the browser journey through the edge', () => {
  let stack;
  let browser;
  let page;
  let consoleErrors;
  // A relay on a loopback port, started before the stack so that its origin is allowed; it
  // learns the edge's address once the stack is up.
  const relayTarget = { host: '127.0.0.1', port: 443 };
  let relay;

  before(async () => {
    relay = await startTcpRelay({ host: '127.0.0.1', port: 0 }, relayTarget);
    stack = await ProductionLikeStack.start({
      appAuth: 'token', model: 'fake-bedrock', extraOrigins: publishedOrigins('127.0.0.1', relay.port),
    });
    relayTarget.host = stack.namespace.taskAddress;
    browser = await launchBrowser();
    ({ page, consoleErrors } = await openProductPage(browser, stack, 'alice'));
    await page.waitForSelector('body[data-ready="true"]');
  });

  after(async () => {
    if (browser) await browser.close().catch(() => {});
    if (relay) await relay.close();
    if (stack) await stack.stop();
  });

  const send = (text) => sendMessage(page, text);
  const finishedAnswer = (n, timeout) => finishedAnswerOn(page, n, timeout);
  const currentSessionId = () => page.evaluate(() => location.hash.slice('#/s/'.length) || undefined);

  test('a new chat streams a markdown answer from Bedrock into the page', async () => {
    await stack.resetModel();
    await stack.scriptModel([{
      kind: 'text',
      text: 'Here is **bold** and code:\n\n```cpp\nint main() { return 0; }\n```\n',
      stop_reason: 'end_turn',
    }]);
    await page.getByTestId('new-session').click();
    await page.locator(ITEM).first().waitFor();
    await send('Show me a tiny C++ program');
    await page.locator(USER).filter({ hasText: 'Show me a tiny C++ program' }).waitFor();
    const answer = await finishedAnswer(1);
    assert.ok((await answer.locator('strong').count()) >= 1, 'bold text rendered as <strong>');
    assert.ok((await answer.locator('pre code').count()) >= 1, 'a code block rendered as <pre><code>');
    assert.ok(!(await answer.innerText()).includes('```'), 'no raw markdown fences on screen');
    const calls = await stack.modelRequests();
    assert.equal(calls.length, 1);
    assert.equal(calls[0].stream, true, 'the agent streamed (ConverseStream)');
    assert.deepEqual(blocksOf(calls[0], 'user').map((b) => b.text), ['Show me a tiny C++ program']);
  });

  test('a tool call: Bedrock asks for current_time, the page shows the card, and the answer uses its result', async () => {
    await stack.resetModel();
    // Unscripted, the fake answers a question about the time with a toolUse of current_time,
    // and the call that carries the toolResult with "The tool returned: <result>".
    await send('What time is it?');
    const answer = await finishedAnswer(2);
    const card = answer.locator('[data-testid="tool-call"]').first();
    await card.waitFor();
    assert.match(await card.innerText(), /current_time/);
    assert.match(await answer.innerText(), /The tool returned: .*\d{1,2}:\d{2}/s);

    // Over Bedrock's wire format: the first call offered the tool; the second carried the
    // model's toolUse back and the agent's toolResult for that toolUseId.
    const calls = await stack.modelRequests();
    assert.equal(calls.length, 2, `two model calls: ${JSON.stringify(calls.map((c) => c.path))}`);
    const tools = calls[0].body.toolConfig?.tools || [];
    assert.ok(tools.some((x) => x.toolSpec?.name === 'current_time'), 'the agent offered current_time in toolConfig');
    const use = blocksOf(calls[1], 'assistant').find((b) => b.toolUse)?.toolUse;
    assert.ok(use && use.name === 'current_time', `the second call repeats the toolUse: ${JSON.stringify(calls[1].body.messages)}`);
    const result = blocksOf(calls[1], 'user').find((b) => b.toolResult)?.toolResult;
    assert.ok(result, 'the second call carries a toolResult');
    assert.equal(result.toolUseId, use.toolUseId);
    const resultText = (result.content || []).map((c) => c.text ?? JSON.stringify(c.json ?? '')).join('');
    assert.ok((await card.innerText()).length > 0 && resultText.length > 0);
    assert.ok((await answer.innerText()).includes(resultText.slice(0, 20)), 'the answer on screen carries the tool result');
  });

  test('stop ends a running answer and keeps what was written', async () => {
    await stack.scriptModel([{ kind: 'text', text: countingText(300), delay_ms: 40, stop_reason: 'end_turn' }]);
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
    assert.equal(await page.locator(`${ASSISTANT} [data-testid="tool-call"]`).count(), 1, 'the tool card is back');
  });

  test('rename in place through the edge: the list, the title and the store agree', async () => {
    const id = await currentSessionId();
    const item = page.locator(`${ITEM}[data-session-id="${id}"]`);
    await item.hover();
    await item.locator('.rename').click();
    await page.fill('.rename-input', 'Code, clocks & counting');
    await page.press('.rename-input', 'Enter');
    await page.waitForFunction(([sel, want]) => document.querySelector(sel)?.innerText.includes(want),
      [`${ITEM}[data-session-id="${id}"]`, 'Code, clocks & counting']);
    assert.equal(await page.locator('#chat-title').innerText(), 'Code, clocks & counting');
    const stored = await stack.agentApi('GET', `/v1/sessions/${id}`, { user: 'alice' });
    assert.equal(stored.json.title, 'Code, clocks & counting');
    const patch = stack.edgeAccessLog().find((e) => e.method === 'PATCH' && e.uri === `/api/sessions/${id}`);
    assert.ok(patch && patch.status === 200, `the PATCH passed the WAF to the app: ${JSON.stringify(patch)}`);
  });

  test('delete, confirmed with a second click, removes the chat from the list and the store', async () => {
    const id = await currentSessionId();
    const count = await page.locator(ITEM).count();
    const item = page.locator(`${ITEM}[data-session-id="${id}"]`);
    await item.hover();
    await item.locator('.delete').click();
    assert.equal(await item.locator('.delete').innerText(), 'Delete?');
    assert.equal(await page.locator(ITEM).count(), count, 'one click only arms the button');
    await item.locator('.delete').click();
    await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length === n - 1, [ITEM, count]);
    assert.equal((await stack.agentApi('GET', `/v1/sessions/${id}`, { user: 'alice' })).status, 404);
    assert.equal(await currentSessionId(), undefined, 'the deleted chat is no longer open');
    const del = stack.edgeAccessLog().find((e) => e.method === 'DELETE' && e.uri === `/api/sessions/${id}`);
    assert.ok(del && del.status >= 200 && del.status < 300, `the DELETE passed the WAF to the app: ${JSON.stringify(del)}`);
  });

  test('through a published loopback port (prod_like --publish) the browser can chat; another origin is refused', async () => {
    const origin = `https://127.0.0.1:${relay.port}`;
    const relayed = await openProductPage(browser, stack, 'alice', { origin });
    try {
      const p = relayed.page;
      await p.waitForSelector('body[data-ready="true"]');
      await stack.scriptModel([{ kind: 'text', text: 'Answered through the relay.', stop_reason: 'end_turn' }]);
      await p.getByTestId('new-session').click();
      await p.locator(ITEM).first().waitFor();
      await sendMessage(p, 'Hello through the relay');
      const answer = await finishedAnswerOn(p, 1);
      assert.equal((await answer.locator('.message-body').innerText()).trim(), 'Answered through the relay.');
      assert.deepEqual(relayed.consoleErrors.filter((e) => !/EventSource|net::ERR_|Failed to load resource/.test(e)), []);
    } finally {
      await relayed.context.close();
    }
    // The origin check is real: the same call from an origin nobody allowed is refused.
    const alice = new ProductUser(stack, 'alice');
    const refused = await alice.api('POST', '/sessions', { body: {}, headers: { Origin: 'https://127.0.0.1:1' } });
    assert.equal(refused.status, 403, refused.body);
  });

  test('the page raised no script errors (CSP or otherwise) on the way', () => {
    const relevant = consoleErrors.filter((e) => !/EventSource|net::ERR_|Failed to load resource/.test(e));
    assert.deepEqual(relevant, []);
  });
});
