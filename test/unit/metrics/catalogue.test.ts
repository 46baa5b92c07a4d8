/**
 * What /metrics declares (issue 11, "made-up zeros"): a process exports only the metrics of
 * what it runs (serve: serving; a trainer: ingest + train; run: both), and the serving
 * counters and histograms exist at 0 from the start for every route and code of the label
 * contract, so that rate() sees the first requests. Undefined figures: absent-figures.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  createMetrics,
  createServeMetrics,
  createTrainMetrics,
  SERVE_CODES,
  SERVE_ROUTES,
} from '../../../src/metrics/catalogue.ts';

/** The metric names of a registry (HELP/TYPE declared). */
const names = async (m: { registry: { getMetricsAsJSON(): Promise<{ name: string }[]> } }) =>
  (await m.registry.getMetricsAsJSON()).map((x) => x.name);

const TRAINING = /^lionctr_(train|progressive|ingest|kafka|embedding|checkpoint|export)_/;

describe('one registry per process kind', () => {
  it('serve: serving and process metrics only, no training, ingest or Kafka ones', async () => {
    const n = await names(createServeMetrics());
    expect(n.filter((x) => TRAINING.test(x))).toEqual([]);
    expect(n).toEqual(expect.arrayContaining(['lionctr_serve_requests_total', 'lionctr_serve_request_seconds']));
    expect(n).toEqual(expect.arrayContaining(['lionctr_build_info', 'process_resident_memory_bytes']));
  });

  it('a trainer: no serving metrics; run: both', async () => {
    const train = await names(createTrainMetrics());
    expect(train.filter((x) => x.startsWith('lionctr_serve_'))).toEqual([]);
    expect(train).toEqual(expect.arrayContaining(['lionctr_train_nonfinite_steps_total', 'lionctr_progressive_auc']));
    const all = await names(createMetrics());
    expect(all).toEqual(expect.arrayContaining([...train, ...(await names(createServeMetrics()))]));
  });

  it('serving counters and latency histograms start at 0 for every route and code', async () => {
    const m = createServeMetrics();
    const requests = (await m.serveRequests.get()).values;
    expect(requests.length).toBe(SERVE_ROUTES.length * SERVE_CODES.length);
    for (const route of SERVE_ROUTES)
      for (const code of SERVE_CODES)
        expect(
          requests.find((v) => v.labels.route === route && v.labels.code === code)?.value,
          `${route} ${code}`,
        ).toBe(0);
    const text = await m.registry.metrics();
    for (const route of SERVE_ROUTES) expect(text).toContain(`lionctr_serve_request_seconds_count{route="${route}"} 0`);
  });

  it("a trainer's message counters start at 0 for both statuses", async () => {
    const text = await createTrainMetrics().registry.metrics();
    for (const status of ['ok', 'bad']) expect(text).toContain(`lionctr_ingest_messages_total{status="${status}"} 0`);
  });

  it('build info names the version and the backend', async () => {
    const text = await createServeMetrics().registry.metrics();
    expect(text).toMatch(/^lionctr_build_info\{version="\d+\.\d+\.\d+[^"]*",backend="[a-z]+"\} 1$/m);
  });
});
