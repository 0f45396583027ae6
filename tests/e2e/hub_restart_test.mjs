// The hub crashes and comes back while a browser is subscribed, through the edge in headless
// Chromium, with the hub's history in Redis as in the ECS task: the page's EventSource resumes
// from the last id it received, and the page applies every update of the turn exactly once,
// seq 1..n, from the stream alone (its reads of the stored session are held until the turn has
// ended on screen, so the store's redraw cannot paper over a gap).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { ASSISTANT, holdSessionReads, launchBrowser, openProductPage, sendMessage } from './lib/browser.mjs';
import { recordEventSources, recordedEventSources, turnMessages } from './lib/event_source_recorder.mjs';
import { ProductionLikeStack } from './lib/production_like_stack.mjs';

function countingText(words) {
  return Array.from({ length: words }, (_, i) => `w${i + 1}`).join(' ') + '.';
}

const normalize = (text) => text.replace(/\s+/g, ' ').trim();

describe('the hub restarts under a subscribed browser', () => {
  let stack;
  let browser;
  let page;
  let context;

  before(async () => {
    stack = await ProductionLikeStack.start({ appAuth: 'token', model: 'fake-bedrock', hubRedis: true });
    browser = await launchBrowser();
    context = await browser.newContext({ ignoreHTTPSErrors: true });
    await recordEventSources(context);
    ({ page } = await openProductPage(browser, stack, 'alice', { context }));
    await page.waitForSelector('body[data-ready="true"]');
  });

  after(async () => {
    if (browser) await browser.close().catch(() => {});
    if (stack) await stack.stop();
  });

  test('the hub killed mid-answer and restarted: the stream resumes from its last id and the page applies seq 1..n once each, from the stream alone', async (t) => {
    // About 120 deltas 45 ms apart (8 characters each), some 5.5 s: the answer is still
    // streaming well after the browser has reconnected, which Chromium does 3 s after the drop.
    const text = countingText(220);
    await stack.scriptModel([{ kind: 'text', text, delay_ms: 45, stop_reason: 'end_turn' }]);
    await page.getByTestId('new-session').click();
    await page.waitForFunction(() => /^#\/s\//.test(location.hash));
    const sessionId = await page.evaluate(() => location.hash.slice('#/s/'.length));
    await page.waitForFunction(() => document.getElementById('connection').dataset.state === 'live');

    const resumeCheck = {};
    const reads = await holdSessionReads(page, sessionId);
    try {
      await sendMessage(page, 'Count to two hundred and twenty, please');
      const answer = page.locator(ASSISTANT).first();
      await answer.waitFor();
      const liveUpdates = () => answer.evaluate((n) => Number(n.dataset.liveUpdates || 0));
      await page.waitForFunction((sel) => Number(document.querySelector(sel)?.dataset.liveUpdates || 0) >= 10, ASSISTANT);

      const killedAt = Date.now();
      const killed = await stack.stopComponent('hub', { signal: 'SIGKILL' });
      assert.equal(killed.signal, 'SIGKILL');
      await stack.startComponent('hub');
      t.diagnostic(`hub back after ${Date.now() - killedAt} ms, with ${await liveUpdates()} updates applied before`);

      // The turn ends on screen with the store's reads still held: only live updates did it.
      await page.waitForFunction((sel) => document.querySelector(sel)?.getAttribute('aria-busy') === 'false', ASSISTANT,
        { timeout: 90_000 });
      const live = normalize(await answer.locator('.message-body').innerText());
      const applied = await liveUpdates();
      const turnId = await answer.evaluate((n) => n.dataset.turnId);
      const sources = await recordedEventSources(page);
      const received = turnMessages(sources, turnId);
      const done = received.find((m) => m.update.type === 'turn.done');
      assert.ok(done, `the page received the turn's turn.done: ${JSON.stringify(received.slice(-2))}`);
      const n = done.update.seq;

      // Applied updates have strictly increasing seq (the page drops one it already has), so
      // n applied updates of a turn whose last is seq n are exactly 1..n, none twice.
      assert.equal(applied, n, `the page applied ${applied} updates of a turn of ${n}`);
      assert.ok(await answer.locator('.turn-error').count() === 0, 'the turn ended without an error');
      assert.equal(live, normalize(text), 'the text streamed to the page is the whole answer, in order');

      // How it came back: the connection dropped after the kill and the same EventSource
      // reconnected by itself, sending the id of the last message it had as Last-Event-ID; the
      // restarted hub found it in its Redis history and went on from the next update.
      const log = sources.flatMap((src) => src.log.filter((e) => e.kind !== 'message'));
      t.diagnostic(`EventSource opens and errors, ms after the kill: ${JSON.stringify(log.map((e) => [e.kind, e.at - killedAt, e.readyState]))}`);
      const reopened = log.find((e) => e.kind === 'open' && e.at > killedAt);
      assert.ok(reopened, 'the page reconnected');
      const beforeReopen = received.filter((m) => m.at < reopened.at);
      const afterReopen = received.filter((m) => m.at >= reopened.at);
      assert.ok(beforeReopen.length > 0 && afterReopen.length > 0, 'updates arrived before the drop and after the reconnect');
      const lastSeqBefore = Math.max(...beforeReopen.map((m) => m.update.seq));
      // The EventSource's last id when it reconnected: that of the last message before, of any
      // topic (only this turn's are on this one).
      resumeCheck.lastIdBeforeDrop = sources.flatMap((src) => src.log)
        .filter((e) => e.kind === 'message' && e.at < reopened.at).pop()?.id;
      // Nothing skipped at the resume point (an update the agent re-sent because the crash ate
      // the hub's answer may come twice on the wire; the page drops the copy).
      assert.ok(afterReopen[0].update.seq <= lastSeqBefore + 1, `the resumed stream starts at seq ${afterReopen[0].update.seq}, after ${lastSeqBefore}`);
      const seqs = received.map((m) => m.update.seq);
      const doubled = seqs.filter((s, i) => seqs.indexOf(s) !== i);
      t.diagnostic(`received ${seqs.length} messages for ${n} updates; doubled on the wire: ${JSON.stringify(doubled)}; ${reads.held()} store reads held`);
      assert.deepEqual([...new Set(seqs)].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i + 1),
        'every seq 1..n reached the page over the stream');

      // The store holds the same answer.
      const stored = await stack.agentApi('GET', `/v1/sessions/${sessionId}`, { user: 'alice' });
      const message = (stored.json?.messages || []).find((m) => m.role === 'assistant' && m.turn_id === turnId);
      assert.equal(message?.status, 'complete', stored.body.slice(0, 300));
      assert.equal(normalize(message.text), normalize(text));
    } finally {
      await reads.release();
    }
    // Once the reads pass again, the page's redraw from the store changes nothing.
    await page.waitForTimeout(500);
    assert.equal(normalize(await page.locator(ASSISTANT).first().locator('.message-body').innerText()), normalize(text));

    // The edge logs a request when it ends: leave the page so that the resumed stream ends too,
    // then read what the reconnect sent. Its Last-Event-ID is the id of the last message the page
    // had received, and the restarted hub answered it (200, not a 502 while it was away).
    const lastIdBeforeDrop = resumeCheck.lastIdBeforeDrop;
    await page.goto('about:blank');
    let resume;
    for (const deadline = Date.now() + 5000; !resume && Date.now() < deadline; await page.waitForTimeout(100)) {
      resume = stack.edgeAccessLog().find((e) => e.uri.startsWith('/.well-known/mercure?') && e.last_event_id && e.status === 200);
    }
    t.diagnostic(`the edge saw: ${JSON.stringify(stack.edgeAccessLog().filter((e) => e.uri.startsWith('/.well-known/mercure?')).map((e) => [e.status, e.last_event_id]))}`);
    assert.ok(resume, 'the restarted hub answered (200) a reconnect that carried Last-Event-ID');
    assert.equal(resume.last_event_id, lastIdBeforeDrop, 'it asked for what followed the last update it had');
    assert.equal(resume.upstream, '127.0.0.1:3701');
  });
});
