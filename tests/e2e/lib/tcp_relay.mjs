// A plain TCP relay from a port on this machine to the edge inside the task namespace, as
// scripts/prod_like.sh --publish runs it: TLS stays end to end between the client and the edge,
// so a browser on a loopback address (or at the end of an SSH tunnel) sees the edge's own
// certificate. The browser then comes from the relay's origin, which the app must allow
// (publishedOrigins, given to the stack as extraOrigins).
import { connect, createServer } from 'node:net';

const IDLE_MS = 3_600_000; // as the edge's SSE read timeout

// Starts relaying host:port to target {host, port}; resolves with {server, port, close()}
// (port 0 picks a free one).
export function startTcpRelay({ host, port }, target) {
  const server = createServer((client) => {
    const upstream = connect({ host: target.host, port: target.port });
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
    upstream.setTimeout(IDLE_MS, close);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const bound = server.address().port;
      resolve({ server, port: bound, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

// The origins a browser that opens https://HOST:PORT/ through the relay sends: that one, and for
// a loopback address also the other loopback spellings people type.
export function publishedOrigins(host, port) {
  const loopback = ['127.0.0.1', 'localhost', '[::1]', '::1'];
  const hosts = loopback.includes(host) ? ['127.0.0.1', 'localhost', '[::1]'] : [host.includes(':') ? `[${host}]` : host];
  return hosts.map((h) => `https://${h}:${port}`);
}
