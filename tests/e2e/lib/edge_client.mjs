// A client of the edge, as a browser or an attacker on the internet sees the product: HTTPS to
// the task address, trusting this run's CA. Plain requests, and SSE streams read event by event.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { connect } from 'node:net';

export class EdgeClient {
  constructor({ baseUrl, caPath, httpBaseUrl }) {
    this.baseUrl = baseUrl;
    this.httpBaseUrl = httpBaseUrl;
    this.agent_ = new Agent({ ca: readFileSync(caPath), keepAlive: false });
  }

  static forStack(stack) {
    return new EdgeClient({ baseUrl: stack.edgeUrl, httpBaseUrl: stack.edgeHttpUrl, caPath: stack.caCertPath });
  }

  // Resolves {status, headers, body, json} ; body is the text. `path` may carry a query string
  // that is sent exactly as given (attack payloads must reach the WAF unaltered).
  request(method, path, { headers = {}, body, timeoutMs = 15_000, plainHttp = false } = {}) {
    const base = new URL(plainHttp ? this.httpBaseUrl : this.baseUrl);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const allHeaders = { ...headers };
    if (payload !== undefined && !Object.keys(allHeaders).some((k) => k.toLowerCase() === 'content-type')) {
      allHeaders['Content-Type'] = 'application/json';
    }
    if (payload !== undefined) allHeaders['Content-Length'] = Buffer.byteLength(payload);
    const send = plainHttp ? httpRequest : httpsRequest;
    return new Promise((resolve, reject) => {
      const req = send({
        host: base.hostname,
        port: base.port || (plainHttp ? 80 : 443),
        method,
        path,
        headers: allHeaders,
        agent: plainHttp ? undefined : this.agent_,
        timeout: timeoutMs,
      }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, body: text, json });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  // Opens an SSE stream; returns {status, headers, events, next(timeoutMs), close()} where
  // events collects every parsed event ({id, type, data}) and next() waits for the next one.
  openStream(path, { headers = {}, timeoutMs = 10_000 } = {}) {
    const base = new URL(this.baseUrl);
    return new Promise((resolve, reject) => {
      const req = httpsRequest({
        host: base.hostname,
        port: base.port || 443,
        method: 'GET',
        path,
        headers: { Accept: 'text/event-stream', ...headers },
        agent: this.agent_,
      }, (res) => {
        clearTimeout(timer);
        const stream = new SseStream(res, req);
        resolve(stream);
      });
      const timer = setTimeout(() => req.destroy(new Error(`GET ${path}: no response head within ${timeoutMs} ms`)), timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end();
    });
  }
}

// Reads text/event-stream per the HTML spec's parsing rules (enough for the hub's output:
// id, event, data over several lines, comments, retry).
class SseStream {
  constructor(res, req) {
    this.status = res.statusCode;
    this.headers = res.headers;
    this.events = [];
    this.text = '';
    this.ended = false;
    this.req_ = req;
    this.waiters_ = [];
    this.buffer_ = '';
    this.current_ = { data: [] };
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      this.text += chunk;
      this.feed(chunk);
    });
    const finish = () => {
      this.ended = true;
      for (const w of this.waiters_.splice(0)) w();
    };
    res.on('end', finish);
    res.on('error', finish);
    res.on('close', finish);
  }

  feed(chunk) {
    this.buffer_ += chunk;
    let cut;
    while ((cut = this.buffer_.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer_.slice(0, cut);
      const sep = this.buffer_.startsWith('\r\n', cut) ? 2 : 1;
      this.buffer_ = this.buffer_.slice(cut + sep);
      this.line(line);
    }
  }

  line(line) {
    if (line === '') {
      if (this.current_.data.length || this.current_.id !== undefined) {
        this.events.push({ id: this.current_.id, type: this.current_.type || 'message', data: this.current_.data.join('\n') });
        for (const w of this.waiters_.splice(0)) w();
      }
      this.current_ = { data: [] };
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.current_.data.push(value);
    else if (field === 'id') this.current_.id = value;
    else if (field === 'event') this.current_.type = value;
  }

  // Waits until `predicate(events)` holds or the time runs out; resolves to the events.
  async waitFor(predicate, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.events)) {
      if (this.ended) throw new Error(`stream ended before the expected events; got ${JSON.stringify(this.events)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected events not seen within ${timeoutMs} ms; got ${JSON.stringify(this.events)}`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters_.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.events;
  }

  close() {
    this.req_.destroy();
  }
}

// True when a TCP connection to host:port is accepted within timeoutMs.
export function tcpConnects(host, port, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('connect', () => done(true));
    socket.on('error', () => done(false));
  });
}
