/**
 * A fault-injecting HTTP proxy for reliability tests: it forwards to a real server and, on the requests a
 * plan picks, answers 429 with `Retry-After`, 5xx, hangs, sends a malformed body or drops the connection.
 * It sits on real sockets, so the client sees exactly what a flaky server would do.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'hang' }
  | { kind: 'malformed' }
  | { kind: 'drop' }
  | { kind: 'drop-mid-body' }
  /** Forward, but only after `ms` (a slow server). */
  | { kind: 'delay'; ms: number };

export interface ProxiedRequest {
  index: number;
  method: string;
  path: string;
  body: string;
  /** The `authorization` header as received. */
  authorization: string | undefined;
  fault: Fault['kind'] | null;
}

export interface FaultProxy {
  url: string;
  /** Every request that reached the proxy, in arrival order. */
  readonly log: ProxiedRequest[];
  /** The most requests that were ever open at the proxy at once. */
  readonly maxInFlight: number;
  close(): Promise<void>;
}

/**
 * Start a proxy to `target` (`http://host:port`). `plan(index, path)` decides the fault for the index-th
 * request (0-based, counting every request); return `undefined` to forward it untouched.
 */
export async function startFaultProxy(
  target: string,
  plan: (index: number, path: string, body: string) => Fault | undefined,
): Promise<FaultProxy> {
  const log: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const hung: ServerResponse[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    response.once('close', () => {
      inFlight -= 1;
    });
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const index = log.length;
    const path = request.url ?? '/';
    const fault = plan(index, path, body);
    log.push({
      index,
      method: request.method ?? 'GET',
      path,
      body,
      authorization: request.headers.authorization,
      fault: fault?.kind ?? null,
    });
    switch (fault?.kind) {
      case 'status': {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
        response.writeHead(fault.status, headers);
        response.end(
          JSON.stringify({ error: { message: `injected ${fault.status}`, type: 'server_error' } }),
        );
        return;
      }
      case 'hang':
        hung.push(response);
        return;
      case 'malformed':
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"id":"cmpl-x","choices":[{"text": "truncated');
        return;
      case 'drop':
        request.socket.destroy();
        return;
      case 'drop-mid-body':
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
        response.write('{"id":"cmpl-x","choices":[');
        setTimeout(() => request.socket.destroy(), 5);
        return;
      default: {
        if (fault?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.ms));
        const upstream = await fetch(`${target}${path}`, {
          method: request.method ?? 'GET',
          headers: { 'content-type': request.headers['content-type'] ?? 'application/json' },
          ...(request.method === 'GET' || request.method === 'HEAD' ? {} : { body }),
        });
        const text = await upstream.text();
        response.writeHead(upstream.status, {
          'content-type': upstream.headers.get('content-type') ?? 'application/json',
        });
        response.end(text);
      }
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    get maxInFlight() {
      return maxInFlight;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of hung) response.destroy();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
