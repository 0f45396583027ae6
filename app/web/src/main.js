// The chat app: wires the session list, the conversation, the composer and the hub stream to
// the /api calls. The open chat lives in the URL (#/s/<id>) so that a reload comes back to it.
import { api, ApiError } from './api.js';
import { Conversation } from './conversation.js';
import { HubStream } from './hub_stream.js';
import { SessionList } from './session_list.js';

const $ = (id) => document.getElementById(id);

const state = {
  me: null,
  sessionId: null,
  busy: false, // a turn of the open session is running
  renewTimer: null,
};

const ui = {
  input: $('message-input'),
  send: $('send'),
  stop: $('stop'),
  title: $('chat-title'),
  connection: $('connection'),
  banner: $('banner'),
  bannerText: $('banner-text'),
};

// ---- banner and connection state ----------------------------------------------------------

function showBanner(text, kind = 'error') {
  ui.bannerText.textContent = text;
  ui.banner.dataset.kind = kind;
  ui.banner.hidden = false;
}

function hideBanner(kind) {
  if (!kind || ui.banner.dataset.kind === kind) ui.banner.hidden = true;
}

function reportError(error) {
  if (error instanceof ApiError) showBanner(error.message, error.agentDown ? 'agent-down' : 'error');
  else showBanner(String(error && error.message ? error.message : error));
}

const CONNECTION_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  down: 'Live updates interrupted — reconnecting…',
};

function setConnection(s) {
  ui.connection.textContent = state.sessionId ? CONNECTION_TEXT[s] || '' : '';
  ui.connection.dataset.state = s;
  if (s === 'live') hideBanner('hub-down');
  else if (s === 'down' && state.busy) showBanner('Lost the live connection. Reconnecting; the answer resumes where it stopped.', 'hub-down');
}

// ---- identity and the hub cookie ------------------------------------------------------------

async function renewCookie() {
  const me = await api('GET', '/me');
  state.me = me;
  $('user-label').textContent = me.user_id;
  clearTimeout(state.renewTimer);
  const seconds = me.hub && me.hub.renew_in_seconds;
  if (seconds) state.renewTimer = setTimeout(() => renewCookie().catch(() => {}), seconds * 1000);
  return me;
}

// ---- the composer ---------------------------------------------------------------------------

function setBusy(busy) {
  if (busy && !state.busy) lastUpdateAt = Date.now();
  state.busy = busy;
  ui.stop.hidden = !busy;
  ui.send.hidden = busy;
  document.body.classList.toggle('turn-running', busy);
}

function autosize() {
  ui.input.style.height = 'auto';
  ui.input.style.height = Math.min(ui.input.scrollHeight, 240) + 'px';
}

// ---- parts ----------------------------------------------------------------------------------

const conversation = new Conversation($('messages'), $('welcome'), {
  onApproval: (callId, approved) =>
    api('POST', `/sessions/${encodeURIComponent(state.sessionId)}/approvals/${encodeURIComponent(callId)}`, { approved }),
});

// The store is the truth: when a turn ends, and when a running turn has been silent for a while
// (updates lost while the hub was away), redraw it from the stored message.
const WATCHDOG_MS = 4000;
let watchdog = null;
let lastUpdateAt = 0;

async function reconcile(turnId) {
  const id = state.sessionId;
  if (!id) return;
  try {
    const session = await api('GET', `/sessions/${encodeURIComponent(id)}?limit=200`);
    if (state.sessionId !== id) return;
    const stored = (session.messages || []).filter((m) => m.role === 'assistant' && (!turnId || m.turn_id === turnId));
    let redrawn = false;
    for (const m of stored) redrawn = conversation.redraw(m) || redrawn;
    if (redrawn && !conversation.runningTurn()) {
      setBusy(false);
      hideBanner('hub-down');
    }
  } catch {
    // The next watchdog tick tries again.
  }
}

function armWatchdog() {
  clearInterval(watchdog);
  watchdog = setInterval(() => {
    if (!state.busy) return;
    if (Date.now() - lastUpdateAt >= WATCHDOG_MS) reconcile(null);
  }, WATCHDOG_MS);
}

const hub = new HubStream({
  onUpdate(update) {
    lastUpdateAt = Date.now();
    const change = conversation.apply(update);
    if (!change) return;
    if (change.ended) {
      reconcile(change.turn.turnId);
      if (!conversation.runningTurn()) {
        setBusy(false);
        hideBanner('hub-down');
        refreshSessions();
      }
    } else if (!state.busy) {
      setBusy(true);
    }
  },
  onState: setConnection,
  renewCookie,
});

const sessions = new SessionList($('session-list'), $('session-empty'), {
  onOpen: (id) => {
    closeSidebar();
    location.hash = `#/s/${id}`;
  },
  async onRename(id, title) {
    try {
      const updated = await api('PATCH', `/sessions/${encodeURIComponent(id)}`, { title });
      sessions.upsert(updated);
      if (id === state.sessionId) ui.title.textContent = updated.title;
    } catch (error) {
      reportError(error);
      sessions.render();
    }
  },
  async onDelete(id) {
    try {
      await api('DELETE', `/sessions/${encodeURIComponent(id)}`);
      sessions.remove(id);
      if (id === state.sessionId) location.hash = '';
    } catch (error) {
      reportError(error);
      sessions.render();
    }
  },
});

async function refreshSessions() {
  try {
    const page = await api('GET', '/sessions?limit=100');
    sessions.set(page.sessions || []);
    if (state.sessionId) ui.title.textContent = sessions.title(state.sessionId) || ui.title.textContent;
  } catch (error) {
    reportError(error);
  }
}

function topicOf(sessionId) {
  const prefix = state.me && state.me.hub ? state.me.hub.topic_prefix : null;
  return prefix ? prefix + sessionId : null;
}

async function openSession(id) {
  if (id === state.sessionId) return;
  state.sessionId = id;
  setBusy(false);
  hub.close();
  conversation.clear();
  sessions.select(id);
  if (!id) {
    ui.title.textContent = 'New chat';
    setConnection('');
    ui.input.focus();
    return;
  }
  ui.title.textContent = sessions.title(id) || 'Chat';
  try {
    const session = await api('GET', `/sessions/${encodeURIComponent(id)}?limit=200`);
    if (state.sessionId !== id) return;
    ui.title.textContent = session.title || 'Chat';
    conversation.load(session.messages || []);
    if (conversation.runningTurn()) setBusy(true);
    const topic = session.topic || topicOf(id);
    if (topic) hub.open(topic);
  } catch (error) {
    if (error.status === 404) {
      location.hash = '';
      return;
    }
    reportError(error);
  }
  ui.input.focus();
}

async function createSession() {
  const session = await api('POST', '/sessions', {});
  sessions.upsert(session);
  return session;
}

async function send() {
  const text = ui.input.value.trim();
  if (!text || state.busy) return;
  hideBanner();
  ui.send.disabled = true;
  try {
    if (!state.sessionId) {
      const session = await createSession();
      location.hash = `#/s/${session.id}`;
      await openSession(session.id);
    }
    // Subscribed before the turn starts, so its first updates are not missed.
    await hub.ready(3000);
    const id = state.sessionId;
    const node = conversation.addUserMessage(text);
    ui.input.value = '';
    autosize();
    setBusy(true);
    try {
      const started = await api('POST', `/sessions/${encodeURIComponent(id)}/messages`, { text });
      if (started && started.turn_id && state.sessionId === id) conversation.turn(started.turn_id);
    } catch (error) {
      // Not sent: the words go back into the box for another try, not into the conversation.
      node.remove();
      setBusy(false);
      if (!ui.input.value) ui.input.value = text;
      autosize();
      throw error;
    }
  } catch (error) {
    reportError(error);
  } finally {
    ui.send.disabled = false;
  }
}

async function stop() {
  if (!state.sessionId) return;
  ui.stop.disabled = true;
  try {
    await api('POST', `/sessions/${encodeURIComponent(state.sessionId)}/cancel`, {});
  } catch (error) {
    reportError(error);
  } finally {
    ui.stop.disabled = false;
  }
}

// ---- theme and the phone drawer -------------------------------------------------------------

function applyTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

function toggleTheme() {
  const current =
    document.documentElement.dataset.theme ||
    (window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
  const next = current === 'dark' ? 'light' : 'dark';
  applyTheme(next);
  try {
    localStorage.setItem('theme', next);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
}

function openSidebar() {
  document.body.classList.add('sidebar-open');
  $('scrim').hidden = false;
}

function closeSidebar() {
  document.body.classList.remove('sidebar-open');
  $('scrim').hidden = true;
}

// ---- start ----------------------------------------------------------------------------------

function sessionFromHash() {
  const m = /^#\/s\/([A-Za-z0-9_-]+)$/.exec(location.hash);
  return m ? m[1] : null;
}

function wire() {
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    send();
  });
  ui.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
  ui.input.addEventListener('input', autosize);
  ui.stop.addEventListener('click', stop);
  $('new-session').addEventListener('click', async () => {
    closeSidebar();
    try {
      const session = await createSession();
      location.hash = `#/s/${session.id}`;
    } catch (error) {
      reportError(error);
    }
  });
  $('theme-toggle').addEventListener('click', toggleTheme);
  $('open-sidebar').addEventListener('click', openSidebar);
  $('close-sidebar').addEventListener('click', closeSidebar);
  $('scrim').addEventListener('click', closeSidebar);
  $('banner-close').addEventListener('click', () => hideBanner());
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && document.body.classList.contains('sidebar-open')) closeSidebar();
  });
  window.addEventListener('hashchange', () => openSession(sessionFromHash()));
}

async function start() {
  try {
    applyTheme(localStorage.getItem('theme'));
  } catch {
    applyTheme(null);
  }
  wire();
  armWatchdog();
  try {
    await renewCookie();
  } catch (error) {
    reportError(error);
  }
  await refreshSessions();
  await openSession(sessionFromHash());
  document.body.dataset.ready = 'true';
}

start();
