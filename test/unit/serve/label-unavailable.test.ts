/**
 * A serve.labels entry naming a version that is not loaded (not on disk, or it failed to load):
 * TF Serving refuses such a label (server_core.cc UpdateModelVersionLabelMap: "Request to assign
 * label to version <v> of model <name>, which is not currently available for inference"), so its
 * label map lacks it and a request by that label answers 400 "Unrecognized servable version
 * label: <label>" (server_core.cc GetModelVersionForLabel). lionctr logs it at start and answers so.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import { createHttpServer } from '../../../src/serve/http-server.ts';
import { ModelRegistry } from '../../../src/serve/model-registry.ts';
import { writeExport } from '../../../src/train/export-writer.ts';
import { sampleInstances, tinyTrainedModel } from '../../helpers/tiny-model.ts';

const meta = { step: 1, examples: 512, sourceOffsets: {}, watermarkMs: null, metrics: {} };

describe('serve.labels naming a version that is not loaded', () => {
  let dir: string;
  let version: string;
  let registry: ModelRegistry;
  let app: ReturnType<typeof createHttpServer>;
  let instances: Record<string, unknown>[];
  const lines: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lionctr-label-'));
    const trained = await tinyTrainedModel(2);
    version = (await writeExport(dir, trained.model, meta)).version;
    instances = sampleInstances(2, trained.schema);
    trained.model.dispose();
    const logger = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s).msg) });
    registry = new ModelRegistry(dir, logger, 0, { keepVersions: 1, labels: { stable: version, canary: '7' } });
    await registry.check();
    app = createHttpServer({ registry, metrics: createMetrics(), modelName: 'ctr' });
  });
  afterAll(async () => {
    await app?.close();
    registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('is logged at start with TF Serving words, and once', async () => {
    const said = lines.filter((l) => l.includes('label canary'));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('version 7, which is not currently available for inference');
    expect(lines.filter((l) => l.includes('label stable'))).toEqual([]);
    await registry.check();
    expect(lines.filter((l) => l.includes('label canary'))).toHaveLength(1);
  });

  it('answers 400 "Unrecognized servable version label" for status, metadata and predict by that label', async () => {
    const want = { error: 'Unrecognized servable version label: canary', code: 'LIONCTR_BAD_REQUEST', where: 'url' };
    for (const [method, url] of [
      ['GET', '/v1/models/ctr/labels/canary'],
      ['GET', '/v1/models/ctr/labels/canary/metadata'],
      ['POST', '/v1/models/ctr/labels/canary:predict'],
    ] as const) {
      const r = await app.inject({ method, url, payload: method === 'POST' ? { instances } : undefined });
      expect([url, r.statusCode, r.json()]).toEqual([url, 400, want]);
    }
    // the label of a loaded version still answers
    const ok = await app.inject({
      method: 'POST',
      url: '/v1/models/ctr/labels/stable:predict',
      payload: { instances },
    });
    expect(ok.statusCode).toBe(200);
  });
});
