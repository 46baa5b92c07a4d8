/**
 * The status page in a real browser: headless Chromium (Debian's package, driven by
 * playwright-core) opens GET / of a real `lionctr run` (synthetic stream, tiny model, predictions
 * sent throughout) and of a `lionctr serve` of its exports (predictions sent to it too). On `run`
 * the page names the served version, its four uPlot charts hold more than one sample each and
 * their canvases show the series' colour; on `serve` it says there is no trainer and draws the
 * prediction rate only. No console error, no failed request, nothing asked of any other host.
 * Screenshots are saved under the OS temp dir (paths printed). Skipped with a message without
 * Chromium; under CI=true that fails.
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findChromium, launchChromium, type PageTrouble, watchedPage } from '../helpers/chromium.ts';
import { useFixture } from '../helpers/fixture.ts';
import { cleanEnv } from '../helpers/kafka-process.ts';
import { freePort, get, predictLoop, quickRunSets, spawnRun, until } from '../helpers/run-process.ts';

const ci = process.env.CI === 'true';
const found = findChromium();
if (!found.path && !ci) console.warn(`status page browser test skipped: ${found.why}`);
const fx = useFixture();

/** The series colours of page.js (window; prediction requests), as RGB. */
const WINDOW_RGB = [0x1f, 0x6f, 0xd1];
const PREDICT_RGB = [0x2a, 0x9d, 0x5c];

type Charts = Record<string, { data: (number | null)[][]; ctx: CanvasRenderingContext2D }>;
type PageState = { charts: Charts; refreshes: number; last: { served: { version: string } | null } };

/** Per chart: samples (x), and non-null points per series. Runs in the page. */
function chartCounts() {
  const charts = (window as unknown as { lionctrStatus: PageState }).lionctrStatus.charts;
  return Object.fromEntries(
    Object.entries(charts).map(([k, u]) => [
      k,
      { samples: u.data[0].length, points: u.data.slice(1).map((s) => s.filter((v) => v !== null).length) },
    ]),
  );
}

/** Pixels of chart `name`'s canvas within 40 of colour `rgb` per channel. Runs in the page. */
function pixelsOf([name, rgb]: [string, number[]]): number {
  const u = (window as unknown as { lionctrStatus: PageState }).lionctrStatus.charts[name];
  const { width, height } = u.ctx.canvas;
  const d = u.ctx.getImageData(0, 0, width, height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4)
    if (d[i + 3] > 200 && [0, 1, 2].every((c) => Math.abs(d[i + c] - rgb[c]) < 40)) n++;
  return n;
}

const clean = (t: PageTrouble) => expect(t).toEqual({ errors: [], failed: [], foreign: [] });

const skip = !found.path && !ci;
describe.skipIf(skip)(`status page in headless Chromium${skip ? ` [skipped: ${found.why}]` : ''}`, () => {
  it('run: version, four charts drawn with data; serve: no trainer, throughput', async () => {
    if (!found.path) throw new Error(found.why);
    const dir = fx.tempDir('status-page');
    const exportDir = join(dir, 'exports');
    const port = await freePort();
    const run = spawnRun(
      quickRunSets(port, {
        'export.dir': exportDir,
        'export.intervalSeconds': 3,
        'train.progressSeconds': 0.5,
        'serve.statusHistory.intervalSeconds': 0.5,
        'log.level': 'warn',
      }),
      fx,
    );
    const alive = () => {
      if (run.c.exitCode !== null) throw new Error(`lionctr run exited (${run.c.exitCode}): ${run.log().slice(-2000)}`);
    };
    await until('the first export served', async () => alive() ?? (await get(port, '/readyz')).status === 200, 90_000);
    const loads = [predictLoop(port)];
    const auc = async () => {
      alive();
      const s = (await get(port, '/v1/lionctr/status')).body as { history?: { series: Record<string, unknown[]> } };
      return (s.history?.series.auc_window ?? []).filter((v) => v !== null).length;
    };
    await until('6 samples with a progressive AUC', async () => (await auc()) >= 6, 90_000);
    const before = BigInt((await get(port, '/readyz')).body.model_version as string);

    const browser = await launchChromium(found.path);
    try {
      const origin = `http://127.0.0.1:${port}`;
      const { page, trouble } = await watchedPage(browser, origin);
      await page.goto(`${origin}/`);
      await page.waitForFunction(() => {
        const s = (window as unknown as { lionctrStatus?: PageState }).lionctrStatus;
        return !!s && s.refreshes >= 2 && Object.keys(s.charts).length === 4;
      });
      await new Promise((r) => setTimeout(r, 300)); // let the last frame paint
      const shot = join(tmpdir(), 'lionctr-status-page-run.png');
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`status page screenshot (run): ${shot}`);

      const shown = (await page.textContent('#version'))?.trim() ?? '';
      const after = BigInt((await get(port, '/readyz')).body.model_version as string);
      expect(shown).toMatch(/^\d{13}$/);
      expect(BigInt(shown) >= before && BigInt(shown) <= after, `${before} <= ${shown} <= ${after}`).toBe(true);
      expect(await page.textContent('#training')).toBe('up');
      expect(await page.isVisible('#no-trainer')).toBe(false);
      const counts = await page.evaluate(chartCounts);
      console.log(`status page charts (run): ${JSON.stringify(counts)}`);
      for (const [name, c] of Object.entries(counts)) {
        expect(c.samples, name).toBeGreaterThan(5);
        expect(c.points[0], `${name}: points of its first series`).toBeGreaterThan(1);
      }
      expect(counts.throughput.points[1], 'prediction requests/s points').toBeGreaterThan(1);
      for (const name of ['auc', 'logloss', 'calibration', 'throughput'])
        expect(
          await page.evaluate(pixelsOf, [name, WINDOW_RGB] as [string, number[]]),
          `${name}: line pixels`,
        ).toBeGreaterThan(100);
      expect(await page.evaluate(pixelsOf, ['throughput', PREDICT_RGB] as [string, number[]])).toBeGreaterThan(100);
      clean(trouble);

      // `serve` of the same exports: serving figures only
      const port2 = await freePort();
      const args = ['bin/lionctr.mjs', 'serve', '--export-dir', exportDir, '--port', `${port2}`];
      const sets = ['serve.pollSeconds=0.2', 'serve.statusHistory.intervalSeconds=0.5', 'log.level=warn'];
      fx.track(spawn('node', [...args, ...sets.flatMap((s) => ['--set', s])], { env: cleanEnv(), stdio: 'ignore' }));
      await until('serve ready', async () => (await get(port2, '/readyz')).status === 200, 60_000);
      loads.push(predictLoop(port2));
      const origin2 = `http://127.0.0.1:${port2}`;
      const served = await watchedPage(browser, origin2);
      await served.page.goto(`${origin2}/`);
      // until the prediction rate has two points above 0
      await served.page.waitForFunction(() => {
        const s = (window as unknown as { lionctrStatus?: PageState }).lionctrStatus;
        const rps = s?.charts.throughput?.data[1] ?? [];
        return rps.filter((v) => v !== null && v > 0).length >= 2;
      });
      await new Promise((r) => setTimeout(r, 300));
      const shot2 = join(tmpdir(), 'lionctr-status-page-serve.png');
      await served.page.screenshot({ path: shot2, fullPage: true });
      console.log(`status page screenshot (serve): ${shot2}`);
      expect(await served.page.isVisible('#no-trainer')).toBe(true);
      expect(await served.page.textContent('#training')).toBe('none in this process');
      expect(await served.page.textContent('#version')).toMatch(/^\d{13}$/);
      expect(Object.keys(await served.page.evaluate(chartCounts))).toEqual(['throughput']);
      expect(await served.page.isVisible('#chart-auc')).toBe(false);
      expect(await served.page.evaluate(pixelsOf, ['throughput', PREDICT_RGB] as [string, number[]])).toBeGreaterThan(
        100,
      );
      clean(served.trouble);
    } finally {
      await browser.close();
      for (const l of loads) await l.stop();
    }
  }, 240_000);
});
