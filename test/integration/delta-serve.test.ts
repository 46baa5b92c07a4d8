import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServeMetrics } from '../../src/metrics/catalogue.ts';
import type { DeltaPredecessor } from '../../src/model/delta-format.ts';
import { observeRegistry } from '../../src/metrics/serve-observer.ts';
import { createHttpServer, VERSION_HEADER } from '../../src/serve/http-server.ts';
import { ModelRegistry } from '../../src/serve/model-registry.ts';
import { writeDelta } from '../../src/train/delta-writer.ts';
import { writeExport } from '../../src/train/export-writer.ts';
import { diffModels } from '../helpers/delta-files.ts';
import { sampleInstances, tinyTrainedModel } from '../helpers/tiny-model.ts';

const meta = (step: number) => ({ step, examples: step, sourceOffsets: {}, watermarkMs: null, metrics: {} });

describe("delta exports served over HTTP (the trainer's delta writer, the registry polling the exports root)", () => {
  let dir: string;
  let url: string;
  let registry: ModelRegistry;
  let app: ReturnType<typeof createHttpServer>;
  let trained: Awaited<ReturnType<typeof tinyTrainedModel>>;
  const instances = () => sampleInstances(30, trained.schema);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lionctr-delta-http-'));
    trained = await tinyTrainedModel(1, 256);
    await writeExport(dir, trained.model, meta(1));
    registry = new ModelRegistry(dir, pino({ level: 'silent' }), 0.05, { keepVersions: 1 });
    const metrics = createServeMetrics();
    observeRegistry(registry, metrics);
    app = createHttpServer({ registry, metrics, modelName: 'ctr' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    await registry.check();
    registry.start();
  });
  afterAll(async () => {
    await app?.close();
    registry?.stop();
    trained?.model.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const predict = async () => {
    const res = await fetch(`${url}/v1/models/ctr:predict`, {
      method: 'POST',
      body: JSON.stringify({ instances: instances() }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { predictions: number[] };
    return { version: res.headers.get(VERSION_HEADER), p: body.predictions };
  };
  /** Predicts until the response names `version` (the registry polls every 50 ms); fails after 10 s. */
  const servedAs = async (version: string) => {
    for (const t0 = Date.now(); Date.now() - t0 < 10_000; await new Promise((r) => setTimeout(r, 25))) {
      const r = await predict();
      if (r.version === version) return r;
    }
    throw new Error(`version ${version} not served within 10 s (serving ${(await predict()).version})`);
  };
  const metricsText = async () => (await fetch(`${url}/metrics`)).text();
  /** The trainer's scores now: what a served delta of its state must answer. */
  const reference = () => Array.from(trained.model.predict(trained.featurizer.fromInstances(instances())));
  const expectClose = (p: number[], want: number[]) => {
    expect(p).toHaveLength(want.length);
    p.forEach((x, i) => {
      expect(Math.abs(x - want[i])).toBeLessThan(1e-7);
    });
  };

  it('serves delta-1, delta-2, refuses a corrupt delta-3 (delta-2 kept, counted), a new full export', async () => {
    const base = registry.current()?.version as string;
    const p0 = (await servedAs(base)).p;
    let before = { tables: trained.model.tables.map((t) => t.clone()) };
    let prev: DeltaPredecessor = {
      baseVersion: base,
      nextSeq: 1,
      version: base,
      manifestBytes: await readFile(join(dir, base, 'manifest.json')),
    };
    /**
     * Trains one step and writes the rows it changed (found by diff) with the trainer's writeDelta,
     * under `baseDir` (the served base by default; elsewhere: not visible to serving yet).
     */
    const train = async (baseDir = join(dir, base)) => {
      trained.step.run(trained.featurizer.fromInstances(instances()));
      const content = diffModels(before, trained.model);
      before = { tables: trained.model.tables.map((t) => t.clone()) };
      const rows = trained.model.tables.map((t) => {
        const r = content.rows[t.slot];
        return Int32Array.from(r.hi, (hi, i) => t.find(hi, r.lo[i])).sort();
      });
      const d = await writeDelta(baseDir, prev, trained.model, rows, meta(prev.nextSeq + 1));
      prev = d.next;
      return { dir: d.dir, version: d.manifest.version, manifest: d.manifest };
    };

    const w1 = await train();
    const r1 = await servedAs(w1.version);
    expectClose(r1.p, reference());
    expect(Math.max(...r1.p.map((x, i) => Math.abs(x - p0[i])))).toBeGreaterThan(1e-4);

    const w2 = await train();
    expectClose((await servedAs(w2.version)).p, reference());
    const status = (await (await fetch(`${url}/v1/models/ctr`)).json()) as {
      model_version_status: { version: string }[];
    };
    expect(status.model_version_status.map((s) => s.version)).toEqual([w2.version]);
    const extras = (await (await fetch(`${url}/v1/lionctr/models/ctr`)).json()) as { versions: unknown[] };
    expect(extras.versions[0]).toMatchObject({ version: w2.version, base_version: base, delta_seq: 2 });
    let text = await metricsText();
    expect(text).toMatch(/lionctr_serve_deltas_applied_total 2\n/);
    expect(text).toContain(`lionctr_serve_model_version ${w2.version}\n`);
    // the age is that of the delta's created_at (seconds ago), not the base's
    const age = Number(/lionctr_serve_model_age_seconds ([\d.e-]+)/.exec(text)?.[1]);
    expect(age).toBeLessThan((Date.now() - Date.parse(w2.manifest.created_at)) / 1000 + 0.5);

    const served2 = reference();
    // delta-3 is corrupted before it becomes visible (serving notices a rename at once), then renamed into place
    const scratch = await mkdtemp(join(tmpdir(), 'lionctr-delta-http-scratch-'));
    const w3 = await train(scratch);
    await writeFile(join(w3.dir, 'dense', 'weights.bin'), new Uint8Array(16)); // bad checksum
    await rename(w3.dir, join(dir, base, 'delta-3'));
    await rm(scratch, { recursive: true, force: true });
    for (const t0 = Date.now(); Date.now() - t0 < 10_000; await new Promise((r) => setTimeout(r, 25)))
      if ((await metricsText()).includes('lionctr_serve_delta_failures_total{reason="checksum"} 1')) break;
    text = await metricsText();
    expect(text).toContain('lionctr_serve_delta_failures_total{reason="checksum"} 1');
    expect(text).toMatch(/lionctr_serve_deltas_applied_total 2\n/);
    const r3 = await predict();
    expect(r3.version).toBe(w2.version);
    expectClose(r3.p, served2);

    const v2 = (await writeExport(dir, trained.model, meta(9))).version;
    expectClose((await servedAs(v2)).p, reference());
  });
});
