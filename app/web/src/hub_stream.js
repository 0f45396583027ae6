// The live stream of one session's turn updates from the hub (Mercure over EventSource). The
// browser's EventSource resumes by itself with Last-Event-ID when a connection drops; when it
// gives up (the hub answered an error, e.g. while it restarts), this reconnects with backoff,
// renewing the subscriber cookie first in case it expired, and asks for the hub's whole history
// of the topic: a restarted hub no longer knows the last event id seen, but it has what was
// published since it came back (the agent holds updates while the hub is away). The view drops
// what it already has (per-turn seq).
export class HubStream {
  constructor({ onUpdate, onState, renewCookie }) {
    this.onUpdate = onUpdate;
    this.onState = onState;
    this.renewCookie = renewCookie;
    this.source = null;
    this.topic = null;
    this.lastEventId = null;
    this.attempt = 0;
    this.timer = null;
    this.openWaiters = [];
    this.isOpen = false;
  }

  open(topic) {
    this.close();
    this.topic = topic;
    // "earliest": the hub's history for this topic first, so nothing published before the
    // connection was up is missed (the view ignores updates it already has).
    this.lastEventId = 'earliest';
    this.connect();
  }

  close() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.source) this.source.close();
    this.source = null;
    this.topic = null;
    this.setOpen(false);
  }

  // Resolves when the stream is connected, or after timeoutMs regardless.
  ready(timeoutMs) {
    if (this.isOpen) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.openWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  setOpen(open) {
    this.isOpen = open;
    if (open) {
      const waiters = this.openWaiters;
      this.openWaiters = [];
      waiters.forEach((w) => w());
    }
  }

  connect() {
    const topic = this.topic;
    if (!topic) return;
    let url = '/.well-known/mercure?topic=' + encodeURIComponent(topic);
    if (this.lastEventId) url += '&lastEventID=' + encodeURIComponent(this.lastEventId);
    const source = new EventSource(url);
    this.source = source;
    this.onState(this.attempt === 0 ? 'connecting' : 'reconnecting');
    source.onopen = () => {
      if (this.source !== source) return;
      this.attempt = 0;
      this.setOpen(true);
      this.onState('live');
    };
    source.onmessage = (event) => {
      if (this.source !== source) return;
      if (event.lastEventId) this.lastEventId = event.lastEventId;
      let update;
      try {
        update = JSON.parse(event.data);
      } catch {
        return;
      }
      this.onUpdate(update);
    };
    source.onerror = () => {
      if (this.source !== source) return;
      this.setOpen(false);
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        this.source = null;
        this.scheduleReconnect();
      } else {
        this.onState('reconnecting');
      }
    };
  }

  scheduleReconnect() {
    this.attempt += 1;
    this.onState('down');
    const delay = Math.min(8000, 500 * 2 ** Math.min(this.attempt - 1, 4)) * (0.75 + Math.random() * 0.5);
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      if (!this.topic) return;
      try {
        await this.renewCookie();
      } catch {
        // The app may be down too; the stream attempt below reports the state either way.
      }
      this.lastEventId = 'earliest';
      this.connect();
    }, delay);
  }
}
