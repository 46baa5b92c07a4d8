/**
 * Slow clients over real HTTP (issue 17, "No request timeouts"): clients that send 2 MB of a
 * chunked body at once and then one byte every 250 ms, or their headers a byte at a time, are
 * answered 408 within serve.requestTimeoutSeconds (headersTimeoutSeconds) plus Node's check
 * interval, their connections closed, the answers counted; the memory their bodies held is
 * freed (heap + external after a full GC back within 8 MB of the baseline, from 40+ MB held);
 * the server answers normally meanwhile and after.
 */
import { connect, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/catalogue.ts';
import { createHttpServer } from '../../src/serve/http-server.ts';
import { ModelRegistry } from '../../src/serve/model-registry.ts';
import { useFixture } from '../helpers/fixture.ts';

const fx = useFixture();
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bytes of heap and external memory after full GCs (MB). */
async function heldMb(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(20);
  }
  const m = process.memoryUsage();
  return (m.heapUsed + m.external) / 2 ** 20;
}

/** A raw connection: `send` writes, `closed` resolves with what came back and when (ms after start). */
function client(port: number): { sock: Socket; closed: Promise<{ text: string; ms: number }>; t0: number } {
  const t0 = performance.now();
  const sock = connect(port, '127.0.0.1');
  let text = '';
  sock.on('data', (d) => {
    text += d;
  });
  sock.on('error', () => {});
  const closed = new Promise<{ text: string; ms: number }>((res) =>
    sock.on('close', () => res({ text, ms: performance.now() - t0 })),
  );
  return { sock, closed, t0 };
}

/** Writes one byte of `bytes` every `everyMs` until the socket closes. */
async function trickle(sock: Socket, bytes: string, everyMs: number): Promise<void> {
  for (let i = 0; !sock.destroyed; i = (i + 1) % bytes.length) {
    sock.write(bytes[i]);
    await sleep(everyMs);
  }
}

describe('slow clients', () => {
  it('a slow body or slow headers get 408 within the timeout; their memory is freed', async () => {
    const root = fx.tempDir('slow-body');
    const registry = new ModelRegistry(root, pino({ level: 'silent' }), 0);
    const metrics = createMetrics();
    const limits = { requestTimeoutSeconds: 2, headersTimeoutSeconds: 1 };
    const app = createHttpServer({ registry, metrics, modelName: 'ctr', limits });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    try {
      const base = await heldMb();
      // 20 slow bodies: 2 MB sent at once (as a chunked request), then one byte every 250 ms
      const head = 'POST /v1/models/ctr:predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n';
      const first = `{"instances":[{"C1":"${'a'.repeat(2 << 20)}`;
      const bodies = Array.from({ length: 20 }, () => {
        const c = client(port);
        c.sock.write(`${head}${first.length.toString(16)}\r\n${first}\r\n`);
        void trickle(c.sock, '1\r\nx\r\n', 250);
        return c;
      });
      // 5 slow header senders
      const headers = Array.from({ length: 5 }, () => {
        const c = client(port);
        c.sock.write('POST /v1/models/ctr:predict HTTP/1.1\r\nHost: x\r\n');
        void trickle(c.sock, 'X-Slow: abcdefgh\r\n', 250);
        return c;
      });
      await sleep(1000);
      const held = (await heldMb()) - base;
      // the server answers others meanwhile
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      const slow = await Promise.all(bodies.map((c) => c.closed));
      const slowHeaders = await Promise.all(headers.map((c) => c.closed));
      const after = (await heldMb()) - base;
      const worst = (xs: { ms: number }[]) => Math.max(...xs.map((x) => x.ms));
      console.log(
        `slow clients: held ${held.toFixed(1)} MB by 20 slow bodies; 408 after at most ` +
          `${worst(slow).toFixed(0)} ms (bodies, limit 2 s) and ${worst(slowHeaders).toFixed(0)} ms (headers, ` +
          `limit 1 s); ${after.toFixed(1)} MB over the baseline after (load average ${loadavg()[0].toFixed(2)})`,
      );
      for (const r of [...slow, ...slowHeaders]) {
        expect(r.text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
        expect(JSON.parse(r.text.split('\r\n\r\n')[1])).toMatchObject({ code: 'LIONCTR_REQUEST_TIMEOUT' });
      }
      // the timeout plus Node's check interval (500 ms here) plus slack for a loaded machine
      for (const r of slow) expect(r.ms).toBeGreaterThanOrEqual(1900);
      expect(worst(slow)).toBeLessThan(2000 + 500 + 2500);
      expect(worst(slowHeaders)).toBeLessThan(1000 + 500 + 2500);
      expect(held).toBeGreaterThan(30);
      expect(after).toBeLessThan(8);
      // counted once each, as 408 (the route's body read that fails then is not counted)
      const counted = (await metrics.serveRequests.get()).values.filter((v) => v.value > 0);
      expect(counted.map((v) => [v.labels.route, v.labels.code, v.value])).toEqual([['unknown', '408', 25]]);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      await app.close();
      registry.stop();
    }
  }, 30_000);
});
