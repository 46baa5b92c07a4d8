/**
 * Serving soak: `lionctr serve` under autocannon load (10 connections, `:predict` with 16
 * instances) while a new version is published every 2 s, for 10 minutes; prints the server's
 * RSS after warm-up and at the end (growth %), requests, failures, and whether every response
 * named a published version. Exits 1 when RSS grew 5% or more after warm-up, a request failed,
 * or a response named no published version (issue 11's target).
 *
 *   npx tsx bench/serve-soak.ts [--seconds 600] [--publish-seconds 2] [--warmup-seconds 60]
 *                               [--connections 10] [--instances 16] [--steps 20] [--max-growth-pct 5]
 */
import { parseArgs } from 'node:util';
import { serveSoak } from '../test/helpers/serve-soak.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '600' },
    'publish-seconds': { type: 'string', default: '2' },
    'warmup-seconds': { type: 'string' },
    connections: { type: 'string', default: '10' },
    instances: { type: 'string', default: '16' },
    steps: { type: 'string', default: '20' },
    'max-growth-pct': { type: 'string', default: '5' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(
    'usage: npx tsx bench/serve-soak.ts [--seconds 600] [--publish-seconds 2]\n' +
      '         [--warmup-seconds <seconds/10, >= 30>] [--connections 10] [--instances 16] [--steps 20]\n' +
      '         [--max-growth-pct 5]',
  );
  process.exit(0);
}
const seconds = Number(values.seconds);
const warmupSeconds = values['warmup-seconds'] ? Number(values['warmup-seconds']) : Math.max(30, seconds / 10);
const r = await serveSoak({
  seconds,
  publishSeconds: Number(values['publish-seconds']),
  warmupSeconds,
  connections: Number(values.connections),
  instances: Number(values.instances),
  steps: Number(values.steps),
  log: (l) => console.log(l),
});
const maxGrowth = Number(values['max-growth-pct']);
const mid = r.rssMb.length >> 1;
const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const half = [medianOf(r.rssMb.slice(mid - 5, mid)), r.rssEndMb];
const fmt = (x: number) => x.toFixed(1);
console.log(
  [
    `load: ${seconds} s, ${values.connections} connections, ${values.instances} instances per request, ` +
      `a version every ${values['publish-seconds']} s (${r.published} published, ${r.versionsSeen} seen in responses)`,
    `requests: ${r.requests} (${fmt(r.requestsPerSecond)}/s), p50 ${r.latencyP50Ms} ms, p99 ${r.latencyP99Ms} ms`,
    `failed: ${r.non2xx} non-2xx, ${r.errors} errors/timeouts; ${r.unnamed} naming no version, ` +
      `${r.unknownVersion} naming an unpublished one`,
    `server rss: ${fmt(r.rssWarmMb)} MB after ${r.warmupEndSeconds} s warm-up -> ${fmt(r.rssEndMb)} MB at the end ` +
      `(growth ${fmt(r.growthPct)}%, limit ${maxGrowth}%), max ${fmt(r.rssMaxMb)} MB after warm-up`,
    `server rss over the second half of the load: ${fmt(half[0])} -> ${fmt(half[1])} MB ` +
      `(${fmt(((half[1] - half[0]) / half[0]) * 100)}%; a leak grows in both halves, a one-time step in one)`,
    `rss every 30 s (MB): ${r.rssMb
      .filter((_, i) => i % 30 === 0)
      .map((x) => x.toFixed(0))
      .join(' ')}`,
  ].join('\n'),
);
if (r.serverLog.trim()) console.log(`server log (warnings and errors):\n${r.serverLog.trim().slice(-2000)}`);
const ok = r.growthPct < maxGrowth && r.non2xx + r.errors + r.unnamed + r.unknownVersion === 0;
console.log(ok ? 'OK' : 'FAIL');
process.exit(ok ? 0 : 1);
