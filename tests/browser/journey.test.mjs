// The whole journey in headless Chromium against the real app, agent (demo model) and sse_hub:
// open, new chat, send and watch the answer stream as markdown, a tool card, stop, rename,
// reload and see history, kill and restart the hub mid-answer and see the stream resume, delete;
// keyboard use, a phone-sized viewport, the dark theme and an XSS attempt rendered harmlessly.
// Screenshots of the main screens go to $SUITE_BIN_DIR/test-artifacts/browser/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalStack, launchChromium, ARTIFACTS } from './local_stack.mjs';

let stack;
let browser;
let context;
let page;
const cspViolations = [];
const pageErrors = [];

const T = (id) => `[data-testid="${id}"]`;
const ASSISTANT = `${T('message')}[data-role="assistant"]`;
const USER = `${T('message')}[data-role="user"]`;

async function shot(name, p = page) {
  await p.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
}

function watch(p) {
  p.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  p.on('pageerror', (e) => pageErrors.push(String(e)));
}

async function openApp(p = page) {
  await p.goto(stack.url);
  await p.waitForSelector('body[data-ready="true"]');
}

// What the page shows, for a failure message that says more than "timed out".
function uiState(p = page) {
  return p.evaluate(() => ({
    hash: location.hash,
    busy: document.body.classList.contains('turn-running'),
    sendHidden: document.querySelector('[data-testid="send"]')?.hidden,
    sendDisabled: document.querySelector('[data-testid="send"]')?.disabled,
    input: document.querySelector('[data-testid="message-input"]')?.value,
    banner: document.getElementById('banner')?.hidden ? null : document.getElementById('banner-text')?.textContent,
    connection: document.getElementById('connection')?.dataset.state,
  }));
}

// Waits for a selector; on timeout the error carries the page's state.
async function waitShown(selector, timeout = 30000) {
  try {
    await page.waitForSelector(selector, { timeout });
  } catch (error) {
    error.message += `\npage state: ${JSON.stringify(await uiState())}`;
    throw error;
  }
}

// Types a message and presses Enter once the composer can send (as a person would wait for it).
async function send(text) {
  await waitShown(`${T('send')}:not([hidden]):not([disabled])`, 15000);
  await page.fill(T('message-input'), text);
  await page.press(T('message-input'), 'Enter');
}

// Waits until the last assistant message stops streaming; returns its rendered text.
async function lastAnswerDone(timeout = 30000) {
  await page.waitForFunction(
    (sel) => {
      const all = document.querySelectorAll(sel);
      const last = all[all.length - 1];
      return last && !last.classList.contains('streaming');
    },
    ASSISTANT,
    { timeout },
  );
  return page.locator(ASSISTANT).last().innerText();
}

// Waits until an answer after the first `before` ones has started to show some text.
async function answerStreaming(before) {
  await page.waitForFunction(
    ([sel, n]) => {
      const all = document.querySelectorAll(sel);
      return all.length > n && all[all.length - 1].querySelector('.message-body').innerText.trim().length > 5;
    },
    [ASSISTANT, before],
    { timeout: 15000 },
  );
}

async function currentSessionId() {
  return page.evaluate(() => /#\/s\/(.+)$/.exec(location.hash)?.[1]);
}

// The markdown text a message shows, letters and digits only (for comparing with the store).
function normalize(text) {
  return text.replace(/[^A-Za-z0-9]/g, '');
}

before(async () => {
  stack = new LocalStack();
  await stack.start({ demoDelay: '40ms' });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url });
  page = await context.newPage();
  watch(page);
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('opens on an empty chat', async () => {
  await openApp();
  assert.equal(await page.locator(T('session-item')).count(), 0);
  assert.ok(await page.locator(T('new-session')).isVisible());
  assert.ok(await page.locator(T('message-input')).isVisible());
  await shot('01-empty');
});

test('a new chat, a message sent with Enter, and the answer streaming in as markdown with a code block', async () => {
  await page.click(T('new-session'));
  await page.waitForSelector(T('session-item'));
  assert.equal(await page.locator(T('session-item')).count(), 1);
  await send('Hello! Can you show me some code?');
  await page.waitForSelector(USER);
  assert.equal(await page.locator(USER).last().innerText(), 'Hello! Can you show me some code?');
  // Streaming: some text while the message is still marked as streaming, more later.
  const partial = await page.waitForFunction(
    (sel) => {
      const m = document.querySelector(sel);
      const text = m ? m.querySelector('.message-body').innerText.trim() : '';
      return m && m.classList.contains('streaming') && text.length > 10 ? text.length : false;
    },
    ASSISTANT,
    { timeout: 15000 },
  );
  const partialLength = await partial.jsonValue();
  await shot('02-streaming');
  const full = await lastAnswerDone();
  assert.ok(full.length > partialLength, 'the answer grew after the first pieces');
  const answer = page.locator(ASSISTANT).last();
  assert.equal(await answer.locator('h2').innerText(), 'Demo answer');
  assert.equal(await answer.locator('strong').first().innerText(), 'demo');
  assert.match(await answer.locator('.code-block pre code').innerText(), /def greet\(name: str\) -> str:/);
  assert.match(await answer.locator('.usage').innerText(), /^\d+ in · \d+ out tokens$/);
  await answer.locator('.copy-code').click();
  assert.equal(await answer.locator('.copy-code').innerText(), 'Copied');
  assert.match(await page.evaluate(() => navigator.clipboard.readText()), /print\(greet\("agent"\)\)/);
  await shot('03-answer');
});

test('a tool call shows as a collapsible card with its input and result', async () => {
  await send('What time is it?');
  await page.waitForSelector(`${ASSISTANT} ${T('tool-call')}`, { timeout: 15000 });
  await lastAnswerDone();
  const card = page.locator(T('tool-call')).last();
  assert.match(await card.locator('.tool-name').innerText(), /current_time/);
  assert.equal(await card.getAttribute('open'), null, 'cards start collapsed');
  await card.locator('summary').click();
  assert.notEqual(await card.getAttribute('open'), null);
  assert.match(await card.locator('.tool-result pre').innerText(), /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
  assert.equal(await card.locator('.tool-status').innerText(), 'done');
  await shot('04-tool-card');
});

test('stop ends the running answer and keeps what was written', async () => {
  const before = await page.locator(ASSISTANT).count();
  await send('Please write a long answer.');
  await answerStreaming(before);
  assert.ok(await page.locator(T('stop')).isVisible());
  await page.click(T('stop'));
  await lastAnswerDone();
  const answer = page.locator(ASSISTANT).last();
  assert.match(await answer.locator('.message-footer').innerText(), /Stopped/);
  assert.ok(await page.locator(T('send')).isVisible());
  assert.ok(!(await page.locator(T('stop')).isVisible()));
  const session = await stack.api('GET', `/sessions/${await currentSessionId()}`);
  const stored = session.json.messages.at(-1);
  assert.equal(stored.status, 'cancelled');
  assert.ok(stored.text.length > 0 && !stored.text.includes('to talk to a real model'), 'the stored answer was cut short');
});

test('rename in place', async () => {
  const item = page.locator(T('session-item')).first();
  await item.hover();
  await item.locator('.rename').click();
  await page.fill('.rename-input', 'Code and clocks');
  await page.press('.rename-input', 'Enter');
  await page.waitForFunction((sel) => document.querySelector(sel)?.innerText.includes('Code and clocks'), T('session-item'));
  assert.equal(await page.locator('#chat-title').innerText(), 'Code and clocks');
  const list = await stack.api('GET', '/sessions');
  assert.equal(list.json.sessions[0].title, 'Code and clocks');
});

test('a reload shows the same history', async () => {
  const messagesBefore = await page.locator(T('message')).count();
  const toolsBefore = await page.locator(T('tool-call')).count();
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length === n, [T('message'), messagesBefore]);
  assert.equal(await page.locator(T('tool-call')).count(), toolsBefore);
  assert.equal(await page.locator('#chat-title').innerText(), 'Code and clocks');
  assert.match(await page.locator(ASSISTANT).last().locator('.message-footer').innerText(), /Stopped/);
  assert.equal(await page.locator(`${T('session-item')}.current`).count(), 1);
});

test('the hub is killed and restarted mid-answer: the stream resumes and ends as stored', async () => {
  const before = await page.locator(ASSISTANT).count();
  await page.waitForFunction(() => document.getElementById('connection').dataset.state === 'live');
  await send('Tell me what you can do.');
  await answerStreaming(before);
  const states = [];
  const recordStates = setInterval(async () => {
    try {
      states.push(await page.evaluate(() => document.getElementById('connection').dataset.state));
    } catch {
      // page busy
    }
  }, 100);
  const liveUpdates = () => page.locator(ASSISTANT).last().evaluate((n) => Number(n.dataset.liveUpdates || 0));
  await stack.restartHub({ downMs: 1500 });
  const updatesWhenHubCameBack = await liveUpdates();
  const rendered = await lastAnswerDone(45000);
  // The rest of the answer came as live updates through the restarted hub (not only a redraw).
  assert.ok((await liveUpdates()) > updatesWhenHubCameBack, 'no live update after the hub came back');
  await page.waitForFunction(() => document.getElementById('connection').dataset.state === 'live', null, { timeout: 20000 });
  clearInterval(recordStates);
  assert.ok(states.some((s) => s === 'down' || s === 'reconnecting'), `the UI never showed the outage: ${[...new Set(states)]}`);
  const session = await stack.api('GET', `/sessions/${await currentSessionId()}`);
  const stored = session.json.messages.at(-1);
  assert.equal(stored.status, 'complete');
  // What was published while the hub was away is not in the restarted hub's history: the page
  // redraws the turn from the store once it ends (asynchronously, after the turn.done it saw).
  const shownText = () =>
    page.locator(ASSISTANT).last().evaluate((node) => {
      const copy = node.querySelector('.message-body').cloneNode(true);
      copy.querySelectorAll('.code-bar').forEach((n) => n.remove());
      return copy.innerText;
    });
  const expected = normalize(stored.text.replace(/```\w*/g, ''));
  let shown = normalize(await shownText());
  for (const end = Date.now() + 15000; shown !== expected && Date.now() < end; shown = normalize(await shownText())) {
    await sleep(100);
  }
  assert.equal(shown, expected);
  assert.ok(rendered.includes('to talk to a real model'));
  await shot('05-after-hub-restart');
});

test('keyboard: Shift+Enter adds a line, Enter sends, the new-chat button is reachable with Tab', async () => {
  const users = await page.locator(USER).count();
  await page.focus(T('message-input'));
  await page.keyboard.type('first line');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('second line');
  assert.equal(await page.inputValue(T('message-input')), 'first line\nsecond line');
  assert.equal(await page.locator(USER).count(), users);
  await page.keyboard.press('Enter');
  await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length === n + 1, [USER, users]);
  assert.equal(await page.locator(USER).last().innerText(), 'first line\nsecond line');
  assert.equal(await page.inputValue(T('message-input')), '');
  await lastAnswerDone();

  const sessions = await page.locator(T('session-item')).count();
  await page.evaluate(() => document.activeElement.blur());
  let reached = false;
  for (let i = 0; i < 30 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.dataset?.testid === 'new-session');
  }
  assert.ok(reached, 'Tab never reached the new-chat button');
  await page.keyboard.press('Enter');
  await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length === n + 1, [T('session-item'), sessions]);
});

test('markup and scripts in a message are shown harmlessly', async () => {
  await send('<img src=x onerror=window.__xss=1><svg onload=window.__xss=2>');
  await lastAnswerDone();
  await send('[x](javascript:window.__xss=3) <iframe src=javascript:window.__xss=4>');
  await lastAnswerDone();
  await page.waitForTimeout(300);
  const result = await page.evaluate(() => ({
    xss: window.__xss,
    dangerous: document.querySelectorAll('.messages img, .messages svg, .messages iframe, .messages script').length,
    handlers: [...document.querySelectorAll('.messages *')].filter((n) => [...n.attributes].some((a) => a.name.startsWith('on'))).length,
    jsLinks: document.querySelectorAll('.messages a[href^="javascript"]').length,
  }));
  assert.deepEqual(result, { xss: undefined, dangerous: 0, handlers: 0, jsLinks: 0 });
  assert.equal(await page.locator(USER).nth(-2).innerText(), '<img src=x onerror=window.__xss=1><svg onload=window.__xss=2>');
  assert.match(await page.locator(ASSISTANT).nth(-2).innerText(), /You asked/);
});

test('delete removes the chat', async () => {
  const id = await currentSessionId();
  const count = await page.locator(T('session-item')).count();
  const item = page.locator(`${T('session-item')}[data-session-id="${id}"]`);
  await item.hover();
  await item.locator('.delete').click();
  assert.equal(await item.locator('.delete').innerText(), 'Delete?');
  await item.locator('.delete').click();
  await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length === n - 1, [T('session-item'), count]);
  assert.equal((await stack.api('GET', `/sessions/${id}`)).status, 404);
  assert.equal(await currentSessionId(), undefined);
});

test('dark theme', async () => {
  const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.click('#theme-toggle');
  const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(dark, light);
  await page.click(`${T('session-item')} .session-open`);
  await page.waitForSelector(ASSISTANT);
  await shot('06-dark');
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), dark, 'the theme choice is kept');
  await page.click('#theme-toggle');
});

test('a phone-sized screen: the chat fills it, the list is a drawer, nothing scrolls sideways', async () => {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const p = await phone.newPage();
  watch(p);
  try {
    await openApp(p);
    const box = await p.locator('#sidebar').boundingBox();
    assert.ok(box.x + box.width <= 1, 'the chat list is off screen until opened');
    await shot('07-phone', p);
    await p.click('#open-sidebar');
    await p.waitForFunction(() => document.getElementById('sidebar').getBoundingClientRect().x >= 0);
    assert.ok(await p.locator(T('new-session')).isVisible());
    await shot('08-phone-sidebar', p);
    await p.keyboard.press('Escape');
    await p.waitForFunction(() => document.getElementById('sidebar').getBoundingClientRect().right <= 1);
    await p.click('#open-sidebar');
    await p.waitForFunction(() => document.getElementById('sidebar').getBoundingClientRect().x >= 0);
    await p.click(`${T('session-item')} .session-open`);
    // Opening a chat closes the drawer and shows it.
    await p.waitForFunction(() => document.getElementById('sidebar').getBoundingClientRect().right <= 1);
    await p.waitForSelector(ASSISTANT);
    const composer = await p.locator(T('message-input')).boundingBox();
    assert.ok(composer.x >= 0 && composer.x + composer.width <= 390);
    assert.ok(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'the page scrolls sideways');
    await p.fill(T('message-input'), 'Hi from a phone');
    await p.tap(T('send'));
    await p.waitForFunction((sel) => [...document.querySelectorAll(sel)].some((n) => n.innerText === 'Hi from a phone'), USER);
    await p.waitForFunction((sel) => {
      const all = document.querySelectorAll(sel);
      return !all[all.length - 1].classList.contains('streaming') && all[all.length - 1].querySelector('pre');
    }, ASSISTANT, { timeout: 30000 });
    assert.ok(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'a code block made the page scroll sideways');
    await shot('09-phone-chat', p);
  } finally {
    await phone.close();
  }
});

test('the agent down: a clear error, the message kept for another try; back up: it goes through', async () => {
  // The phone's turn went to this chat too; it must have ended here before the agent goes away
  // (a page that still shows it running cannot send, and cannot ask the dead agent how it ended).
  await waitShown(`${T('send')}:not([hidden]):not([disabled])`);
  await stack.agent.stop('SIGKILL');
  await send('Are you there?');
  await waitShown('#banner:not([hidden])');
  assert.match(await page.locator('#banner-text').innerText(), /agent is not answering/i);
  assert.equal(await page.inputValue(T('message-input')), 'Are you there?');
  assert.ok(await page.locator(T('send')).isVisible());
  await shot('10-agent-down');
  stack.agent.start();
  await stack.agent.waitHealthy(stack.agentPort);
  const answers = await page.locator(ASSISTANT).count();
  await page.press(T('message-input'), 'Enter');
  await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length > n, [ASSISTANT, answers]);
  await lastAnswerDone();
  // Sending again took the error away: the banner is for what is wrong now.
  assert.ok(await page.locator('#banner').isHidden());
});

test('a turn that fails in the model shows its error in the conversation', async () => {
  await stack.agent.stop('SIGKILL');
  stack.agent.env.AGENT_TURN_DEADLINE = '300ms';
  stack.agent.start();
  await stack.agent.waitHealthy(stack.agentPort);
  const answers = await page.locator(ASSISTANT).count();
  await send('This one will run out of time.');
  await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length > n, [ASSISTANT, answers]);
  await lastAnswerDone();
  const error = page.locator(ASSISTANT).last().locator('.turn-error');
  await error.waitFor();
  assert.match(await error.innerText(), /deadline|time/i);
  assert.ok(await page.locator(T('send')).isVisible(), 'the composer is usable again');
  await shot('11-model-error');
});

test('a tool that needs approval asks in the conversation: allowed once, it runs; denied once, the model is told', async () => {
  // Its own stack, with current_time needing approval, and its own browser context.
  const own = new LocalStack();
  await own.start({ demoDelay: '5ms' });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const p = await ctx.newPage();
  watch(p);
  try {
    await own.agent.stop();
    own.agent.env.AGENT_TOOLS_REQUIRE_APPROVAL = 'current_time';
    own.agent.start();
    await own.agent.waitHealthy(own.agentPort);
    await p.goto(own.url);
    await p.waitForSelector('body[data-ready="true"]');
    await p.click(T('new-session'));
    await p.waitForSelector(T('session-item'));
    const sessionId = await p.evaluate(() => /#\/s\/(.+)$/.exec(location.hash)?.[1]);
    const ask = async (text) => {
      const answers = await p.locator(ASSISTANT).count();
      await p.waitForSelector(`${T('send')}:not([hidden]):not([disabled])`);
      await p.fill(T('message-input'), text);
      await p.press(T('message-input'), 'Enter');
      await p.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length > n, [ASSISTANT, answers]);
      const answer = p.locator(ASSISTANT).last();
      await answer.locator('.approval .approve').waitFor({ timeout: 15000 });
      return answer;
    };
    const finished = async (answer) => p.waitForFunction((node) => !node.classList.contains('streaming'), await answer.elementHandle(), { timeout: 15000 });
    const storedCall = async () => {
      const session = await own.api('GET', `/sessions/${sessionId}`);
      return session.json.messages.at(-1).content.find((b) => b.type === 'tool_call');
    };

    // Allowed: the prompt names the tool, the call waits (stored pending), then runs.
    let answer = await ask('What time is it?');
    assert.match(await answer.locator('.approval-text').first().innerText(), /current_time/);
    assert.equal(await answer.locator(`${T('tool-call')} .tool-status`).innerText(), 'running…');
    assert.equal((await storedCall()).approval, 'pending');
    await shot('12-approval-asked', p);
    // A reload asks again, once (from the stored call and the hub's replay alike).
    await p.reload();
    await p.waitForSelector('body[data-ready="true"]');
    answer = p.locator(ASSISTANT).last();
    await answer.locator('.approval .approve').waitFor({ timeout: 15000 });
    await p.waitForFunction(() => document.getElementById('connection').dataset.state === 'live');
    assert.equal(await answer.locator('.approval').count(), 1);
    await answer.locator('.approval .approve').click();
    await finished(answer);
    assert.equal(await answer.locator('.approval-text').innerText(), 'Allowed.');
    assert.equal(await answer.locator(`${T('tool-call')} .tool-status`).innerText(), 'done');
    // The card starts collapsed: its result is in the page, not on screen.
    assert.match(await answer.locator(`${T('tool-call')} .tool-result pre`).textContent(), /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
    assert.match(await answer.locator('.markdown').last().innerText(), /from the current_time tool/);
    let call = await storedCall();
    assert.equal(call.approval, 'approved');
    assert.equal(call.is_error, false);

    // Denied: the tool does not run; the model gets "denied by the user" and says so.
    answer = await ask('And what time is it now?');
    await answer.locator('.approval .deny').click();
    await finished(answer);
    assert.equal(await answer.locator('.approval-text').innerText(), 'Denied.');
    assert.equal(await answer.locator(`${T('tool-call')} .tool-status`).innerText(), 'failed');
    assert.equal(await answer.locator(`${T('tool-call')} .tool-result pre`).textContent(), 'denied by the user');
    assert.match(await answer.locator('.markdown').last().innerText(), /The clock tool failed: denied by the user/);
    call = await storedCall();
    assert.equal(call.approval, 'denied');
    assert.equal(call.output, 'denied by the user');
    await shot('13-approval-denied', p);
    // Redrawn from the store after a reload, the conversation still says how each call went.
    await p.reload();
    await p.waitForSelector('body[data-ready="true"]');
    await p.waitForFunction((sel) => document.querySelectorAll(`${sel} .approval-text`).length >= 2, ASSISTANT);
    assert.deepEqual((await p.locator(`${ASSISTANT} .approval-text`).allInnerTexts()).slice(-2), ['Allowed.', 'Denied.']);
    assert.equal(await p.locator(`${ASSISTANT} .approval .approve`).count(), 0, 'a decided call does not ask again');
  } finally {
    await ctx.close();
    await own.stop();
  }
});

test('no CSP violations or script errors happened', () => {
  assert.deepEqual(cspViolations, []);
  assert.deepEqual(pageErrors, []);
});
