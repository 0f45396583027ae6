// What a page's EventSource connections actually received, recorded inside the page: every
// message (its id and data), every open and every error, with the time, per EventSource object
// (one object reconnects by itself, sending Last-Event-ID). Installed before the page's own
// scripts run, by wrapping the browser's EventSource; the page's code is unchanged.
export async function recordEventSources(context) {
  await context.addInitScript(() => {
    const Native = window.EventSource;
    const record = { sources: [] };
    Object.defineProperty(window, '__eventSources', { value: record });
    window.EventSource = class RecordedEventSource extends Native {
      constructor(url, init) {
        super(url, init);
        const entry = { url: String(url), log: [] };
        record.sources.push(entry);
        this.addEventListener('open', () => entry.log.push({ kind: 'open', at: Date.now() }));
        this.addEventListener('error', () => entry.log.push({ kind: 'error', at: Date.now(), readyState: this.readyState }));
        this.addEventListener('message', (e) => entry.log.push({ kind: 'message', at: Date.now(), id: e.lastEventId, data: e.data }));
      }
    };
  });
}

// [{url, log: [{kind, at, id?, data?, readyState?}]}] of the page so far.
export async function recordedEventSources(page) {
  return page.evaluate(() => window.__eventSources.sources);
}

// The messages of one turn in the order they arrived, across every connection:
// [{id, at, update}] where update is the parsed data.
export function turnMessages(sources, turnId) {
  const out = [];
  for (const source of sources) {
    for (const e of source.log) {
      if (e.kind !== 'message') continue;
      let update;
      try {
        update = JSON.parse(e.data);
      } catch {
        continue;
      }
      if (update.turn_id === turnId) out.push({ id: e.id, at: e.at, update });
    }
  }
  return out.sort((a, b) => a.at - b.at);
}
