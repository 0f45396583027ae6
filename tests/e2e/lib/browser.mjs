// Headless Chromium (Debian's) driven by playwright-core, pointed at the edge. The edge's
// certificate comes from this run's own CA, which the browser is told to accept.
import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 60_000 });
}

// A page of the product signed in as `user` of the stack, with console errors collected. With
// APP_AUTH=token the user's bearer token is added to the page's /api requests only: the hub
// reads an Authorization header before the cookie (as the Mercure spec orders them), so a token
// sent there too would hide the subscriber cookie.
// options.context: a context to use (made with ignoreHTTPSErrors) instead of a new one;
// options.origin: where the browser opens the product (default the edge; a relay in front of it).
export async function openProductPage(browser, stack, user, { context: given, origin = stack.edgeUrl } = {}) {
  const context = given || await browser.newContext({ ignoreHTTPSErrors: true });
  if (stack.appAuth === 'token') {
    const authorization = `Bearer ${stack.users[user]}`;
    // A request the page gave up on (a reload, a closed page) ends the route early: not an error.
    await context.route(`${origin}/api/**`, (route) =>
      route.continue({ headers: { ...route.request().headers(), authorization } }).catch(() => {}));
  }
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const consoleErrors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(err.message));
  await page.goto(`${origin}/`, { waitUntil: 'domcontentloaded' });
  return { context, page, consoleErrors };
}

// The assistant messages of the conversation, in order.
export const ASSISTANT = '[data-testid="message"][data-role="assistant"]';

// Types a message into the box and presses Send.
export async function sendMessage(page, text) {
  await page.getByTestId('message-input').fill(text);
  await page.getByTestId('send').click();
}

// Waits for the n-th assistant message (1-based) to stop streaming; returns its locator.
export async function finishedAnswer(page, n, timeout = 60_000) {
  const answer = page.locator(ASSISTANT).nth(n - 1);
  await answer.waitFor({ state: 'attached', timeout });
  await page.waitForFunction(
    ([sel, i]) => {
      const node = document.querySelectorAll(sel)[i];
      return node && node.getAttribute('aria-busy') === 'false';
    },
    [ASSISTANT, n - 1],
    { timeout },
  );
  return answer;
}

// Holds the page's reads of one stored session (GET /api/sessions/{id}) until release() is
// called, so that what the page shows in the meantime comes from the live stream alone: the UI
// redraws a turn from the store when it ends, and when a running turn has been silent for a few
// seconds. Other requests pass. Returns {release, held()}.
export async function holdSessionReads(page, sessionId) {
  let release;
  const released = new Promise((resolve) => { release = resolve; });
  let held = 0;
  const inFlight = new Set();
  const matches = (url) => new RegExp(`^/api/sessions/${sessionId}$`).test(url.pathname);
  const handler = (route) => {
    const done = (async () => {
      if (route.request().method() === 'GET') {
        held += 1;
        await released;
      }
      // fallback, not continue: the context's route still adds the bearer token.
      await route.fallback().catch(() => {});
    })();
    inFlight.add(done);
    return done.finally(() => inFlight.delete(done));
  };
  await page.route(matches, handler);
  return {
    held: () => held,
    async release() {
      release();
      await Promise.all([...inFlight]);
      await page.unroute(matches, handler).catch(() => {});
    },
  };
}
