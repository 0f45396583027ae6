// sse_hub with a real browser: headless Chromium's native EventSource, authorized by the
// mercureAuthorization cookie (HttpOnly, SameSite=Strict, path /.well-known/mercure), same-origin
// as behind the app's proxy, and cross-origin with CORS credentials.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';
import { publish, startHub, stopAll, subscriberToken } from './lib/hub_process.mjs';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

after(stopAll);

// A second origin: a local server whose every page is empty but for its title.
async function emptyPageOrigin(title) {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(`<!doctype html><title>${title}</title>`);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

describe('native EventSource in Chromium', () => {
  let hub;
  let browser;
  let pageServer;
  let pageOrigin;

  before(async () => {
    // A second origin that serves an empty page, for the cross-origin case.
    ({ server: pageServer, origin: pageOrigin } = await emptyPageOrigin('other origin'));
    hub = await startHub({ HUB_CORS_ORIGINS: pageOrigin });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 60_000 });
  });

  after(async () => {
    await browser?.close();
    await hub?.stop();
    await new Promise((r) => pageServer.close(r));
  });

  async function contextWithCookie(token) {
    const context = await browser.newContext();
    await context.addCookies([{
      name: 'mercureAuthorization',
      value: token,
      domain: '127.0.0.1',
      path: '/.well-known/mercure',
      httpOnly: true,
      secure: false,
      sameSite: 'Strict',
    }]);
    return context;
  }

  // Opens an EventSource in the page; received events are collected in window.received.
  async function subscribeInPage(page, url, withCredentials) {
    await page.evaluate(([u, credentials]) => new Promise((resolve, reject) => {
      window.received = [];
      const es = new EventSource(u, { withCredentials: credentials });
      window.es = es;
      es.onmessage = (e) => window.received.push({ id: e.lastEventId, data: e.data });
      es.onopen = () => resolve();
      es.onerror = () => reject(new Error(`EventSource error, readyState ${es.readyState}`));
    }), [url, withCredentials]);
  }

  test('same origin: the cookie authorizes private updates for the user\'s own sessions only', async () => {
    const context = await contextWithCookie(subscriberToken(['/users/alice/sessions/{session}']));
    const page = await context.newPage();
    await page.goto(`${hub.url}/healthz`);
    assert.equal(await page.evaluate(() => document.cookie), '', 'the cookie is HttpOnly');
    await subscribeInPage(page, '/.well-known/mercure?topic=/users/alice/sessions/1&topic=/users/bob/sessions/2', false);
    await publish(hub, { topic: '/users/bob/sessions/2', data: 'for bob', private: 'on', id: 'b-1' });
    await publish(hub, { topic: '/users/alice/sessions/1', data: '{"type":"text.delta","text":"hi"}', private: 'on', id: 'a-1' });
    await publish(hub, { topic: '/users/bob/sessions/2', data: 'public news', id: 'b-2' });
    await page.waitForFunction(() => window.received.length >= 2, null, { timeout: 10_000 });
    const received = await page.evaluate(() => window.received);
    assert.deepEqual(received, [
      { id: 'a-1', data: '{"type":"text.delta","text":"hi"}' },
      { id: 'b-2', data: 'public news' },
    ]);
    await page.evaluate(() => window.es.close());
    await context.close();
  });

  test('cross origin: EventSource withCredentials sends the cookie and CORS lets the page read the stream', async () => {
    const context = await contextWithCookie(subscriberToken(['*']));
    const page = await context.newPage();
    await page.goto(`${pageOrigin}/`);
    await subscribeInPage(page, `${hub.mercure}?topic=/cross`, true);
    await publish(hub, { topic: '/cross', data: 'line 1\nline 2', private: 'on', id: 'x-1' });
    await page.waitForFunction(() => window.received.length >= 1, null, { timeout: 10_000 });
    assert.deepEqual(await page.evaluate(() => window.received), [{ id: 'x-1', data: 'line 1\nline 2' }]);
    await page.evaluate(() => window.es.close());
    await context.close();
  });

  test('cross origin: a fetch client can read the exposed Last-Event-ID response header', async () => {
    const context = await contextWithCookie(subscriberToken(['*']));
    const page = await context.newPage();
    await page.goto(`${pageOrigin}/`);
    await publish(hub, { topic: '/exposed', id: 'exposed-1' });
    const lastEventId = await page.evaluate(async (url) => {
      const controller = new AbortController();
      const r = await fetch(url, { credentials: 'include', headers: { 'Last-Event-ID': 'earliest' }, signal: controller.signal });
      const value = r.headers.get('last-event-id');
      controller.abort();
      return value;
    }, `${hub.mercure}?topic=/exposed`);
    assert.equal(lastEventId, 'exposed-1');
    await context.close();
  });

  test('without the cookie the browser\'s EventSource is refused', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${hub.url}/healthz`);
    await assert.rejects(subscribeInPage(page, '/.well-known/mercure?topic=/x', false), /EventSource error/);
    await context.close();
  });
});

describe('Chromium against HUB_CORS_ORIGINS=*', () => {
  let hub;
  let browser;
  let pageServer;
  let pageOrigin;

  before(async () => {
    ({ server: pageServer, origin: pageOrigin } = await emptyPageOrigin('any origin'));
    hub = await startHub({ HUB_CORS_ORIGINS: '*', MERCURE_ANONYMOUS: '1' });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 60_000 });
  });

  after(async () => {
    await browser?.close();
    await hub?.stop();
    await new Promise((r) => pageServer.close(r));
  });

  // Resolves 'open' or 'error', whichever the EventSource reports first.
  const openOrError = (page, url, withCredentials) => page.evaluate(([u, credentials]) => new Promise((resolve) => {
    const es = new EventSource(u, { withCredentials: credentials });
    es.onopen = () => { es.close(); resolve('open'); };
    es.onerror = () => { es.close(); resolve('error'); };
  }), [url, withCredentials]);

  test('any page may subscribe without credentials; with credentials the browser refuses the wildcard', async () => {
    const page = await browser.newPage();
    await page.goto(`${pageOrigin}/`);
    assert.equal(await openOrError(page, `${hub.mercure}?topic=/public`, false), 'open');
    assert.equal(await openOrError(page, `${hub.mercure}?topic=/public`, true), 'error');
    await page.close();
  });
});
