// One signed-in user of the product, talking to it only through the edge: the API under /api
// (bearer token, as APP_AUTH=token clients do) and the hub's SSE stream with the subscriber cookie
// that /api/me issues. Also the checks of what such a user received.
import { setTimeout as sleep } from 'node:timers/promises';

import { EdgeClient } from './edge_client.mjs';

export class ProductUser {
  constructor(stack, name) {
    this.stack = stack;
    this.name = name;
    this.token = stack.users[name];
    this.edge = EdgeClient.forStack(stack);
    this.cookie = null;
    this.topicPrefix = null;
  }

  headers(extra = {}) {
    return { Authorization: `Bearer ${this.token}`, Origin: this.stack.edgeUrl, ...extra };
  }

  async api(method, path, { body, headers, timeoutMs } = {}) {
    return this.edge.request(method, `/api${path}`, { body, headers: this.headers(headers), timeoutMs });
  }

  // Signs in to the hub: keeps the mercureAuthorization cookie and the topic prefix.
  async signIn() {
    const res = await this.api('GET', '/me');
    if (res.status !== 200) throw new Error(`${this.name}: GET /api/me -> ${res.status} ${res.body}`);
    const setCookie = [].concat(res.headers['set-cookie'] || []);
    const cookie = setCookie.map((c) => c.split(';')[0]).find((c) => c.startsWith('mercureAuthorization='));
    if (!cookie) throw new Error(`${this.name}: /api/me set no mercureAuthorization cookie: ${JSON.stringify(res.headers)}`);
    this.cookie = cookie;
    this.topicPrefix = res.json.hub.topic_prefix;
    this.userId = res.json.user_id;
    return res.json;
  }

  async createSession() {
    const res = await this.api('POST', '/sessions', { body: {} });
    if (res.status !== 201) throw new Error(`${this.name}: create session -> ${res.status} ${res.body}`);
    return res.json;
  }

  async sendMessage(sessionId, text, { timeoutMs } = {}) {
    return this.api('POST', `/sessions/${encodeURIComponent(sessionId)}/messages`, { body: { text }, timeoutMs });
  }

  async getSession(sessionId) {
    return this.api('GET', `/sessions/${encodeURIComponent(sessionId)}`);
  }

  async listSessions() {
    return this.api('GET', '/sessions?limit=100');
  }

  topicOf(sessionId, owner = this.userId) {
    return `/users/${owner}/sessions/${sessionId}`;
  }

  // Subscribes through the edge to `topic` with this user's cookie (or `cookie` when given).
  async subscribe(topic, { cookie = this.cookie, lastEventId } = {}) {
    let path = `/.well-known/mercure?topic=${encodeURIComponent(topic)}`;
    if (lastEventId) path += `&lastEventID=${encodeURIComponent(lastEventId)}`;
    const headers = cookie ? { Cookie: cookie } : {};
    return this.edge.openStream(path, { headers });
  }
}

// The turn updates among a stream's events, parsed: [{id, data}] where data has type, turn_id,
// seq. Non-JSON events are kept with data.type 'unparsed' so that a check sees them.
export function turnUpdates(events) {
  return events.map((e) => {
    try {
      return { id: e.id, data: JSON.parse(e.data) };
    } catch {
      return { id: e.id, data: { type: 'unparsed', raw: e.data } };
    }
  });
}

export function isTurnEnd(update) {
  return update.data.type === 'turn.done' || update.data.type === 'turn.error';
}

// Checks one turn's updates as a user would see them: seq 1, 2, 3... with nothing missing or
// doubled, starting with turn.start and ending with exactly one turn.done or turn.error.
// Returns a list of problems (empty when fine).
export function turnProblems(updates, turnId) {
  const mine = updates.filter((u) => u.data.turn_id === turnId);
  const problems = [];
  if (!mine.length) return [`no updates for turn ${turnId}`];
  mine.forEach((u, i) => {
    if (u.data.seq !== i + 1) problems.push(`update ${i} has seq ${u.data.seq}, expected ${i + 1} (${u.data.type})`);
  });
  if (mine[0].data.type !== 'turn.start') problems.push(`first update is ${mine[0].data.type}, not turn.start`);
  const ends = mine.filter(isTurnEnd);
  if (ends.length !== 1) problems.push(`${ends.length} turn.done/turn.error updates`);
  else if (!isTurnEnd(mine[mine.length - 1])) problems.push('updates after the end of the turn');
  return problems;
}

export function turnText(updates, turnId) {
  return updates
    .filter((u) => u.data.turn_id === turnId && u.data.type === 'text.delta')
    .map((u) => u.data.text)
    .join('');
}

// Waits until a stream has the end of a turn; returns that turn's updates.
export async function waitForTurnEnd(stream, turnId, timeoutMs = 60_000) {
  await stream.waitFor((events) => turnUpdates(events).some((u) => u.data.turn_id === turnId && isTurnEnd(u)), timeoutMs);
  return turnUpdates(stream.events).filter((u) => u.data.turn_id === turnId);
}

// Sends a message, retrying while the session still reports a running turn (409) or the
// service is briefly unavailable; returns the 202 answer.
export async function sendWhenFree(user, sessionId, text, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await user.sendMessage(sessionId, text);
    if (last.status === 202) return last;
    if (![409, 502, 503].includes(last.status)) break;
    await sleep(250);
  }
  throw new Error(`could not send: ${last.status} ${last.body}`);
}
