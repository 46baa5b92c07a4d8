/**
 * The serving soak, short (issue 11, "What it must show"; bench/serve-soak.ts runs it for 10
 * minutes): `lionctr serve` as a child process under autocannon load (10 connections, 16
 * instances per request) for 30 s (until 15 s after warm-up, on a loaded machine) while a new version (about 100,000 rows, 11 MB loaded) is
 * published every second. No request fails, every response names a version that was
 * published, versions are swapped under load, no version fails to load, and the server's RSS
 * grows by less than 15% from the end of the warm-up (8 s and 3 versions served) to the end:
 * a loose bound for a loaded 2-core machine, where a leak of the old version at each swap
 * would add over 100 MB.
 */
import { describe, expect, it } from 'vitest';
import { serveSoak } from '../helpers/serve-soak.ts';

describe('lionctr serve under load while versions are published', () => {
  it('30 s (more on a loaded machine) at 10 connections, a version every second: 0 failures, named versions, flat RSS', async () => {
    const r = await serveSoak({ seconds: 30, measuredSeconds: 15, publishSeconds: 1, warmupSeconds: 8, steps: 60 });
    const figures =
      `${r.requests} requests, ${r.published} published, ${r.versionsSeen} seen; rss ${r.rssWarmMb.toFixed(1)} -> ` +
      `${r.rssEndMb.toFixed(1)} MB (${r.growthPct.toFixed(1)}%) from ${r.warmupEndSeconds} s, max ${r.rssMaxMb.toFixed(1)}; ` +
      `every second: ${r.rssMb.map((x) => x.toFixed(0)).join(' ')}`;
    console.log(figures);
    expect(r.requests).toBeGreaterThan(100);
    expect({ non2xx: r.non2xx, errors: r.errors, unnamed: r.unnamed, unknownVersion: r.unknownVersion }).toEqual({
      non2xx: 0,
      errors: 0,
      unnamed: 0,
      unknownVersion: 0,
    });
    expect(r.versionsSeen, figures).toBeGreaterThanOrEqual(3);
    expect(r.serverLog, 'server warnings/errors').not.toMatch(/failed to load/);
    expect(r.rssMb.length - r.warmupEndSeconds, `RSS measured after warm-up; ${figures}`).toBeGreaterThanOrEqual(15);
    expect(r.growthPct, figures).toBeLessThan(15);
  }, 180_000);
});
