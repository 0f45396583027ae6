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
export async function openProductPage(browser, stack, user) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  if (stack.appAuth === 'token') {
    const authorization = `Bearer ${stack.users[user]}`;
    await context.route(`${stack.edgeUrl}/api/**`, (route) =>
      route.continue({ headers: { ...route.request().headers(), authorization } }));
  }
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const consoleErrors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(err.message));
  await page.goto(`${stack.edgeUrl}/`, { waitUntil: 'domcontentloaded' });
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
