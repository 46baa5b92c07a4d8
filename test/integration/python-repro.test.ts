/**
 * Exports anyone can read (issue 11): test/python/repro.py, which has no lionctr code (stdlib,
 * numpy, pyarrow, onnxruntime, xxhash), reproduces the predictions `lionctr`'s HTTP endpoint
 * serves, within 1e-5, from the export directory alone. The model is trained (2 steps of
 * synthetic data), then every value of the edge instances (test/helpers/edge-instances.ts) but
 * one line's is admitted as a row with a random linear weight, so a token repro.py forms
 * differently from the server finds no row and moves the prediction; one line stays unseen.
 * The JavaScript number formatting and parsing repro.py re-implements is also compared with
 * V8's on 3,000 numbers, and an FM model (the DeepFM term) is reproduced as loaded for
 * serving. Python comes from test/helpers/python-venv.ts (skipped when there is none, failing
 * under CI=true).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Featurizer } from '../../src/features/featurizer.ts';
import { CtrModel } from '../../src/model/ctr-model.ts';
import { loadExport } from '../../src/model/export-reader.ts';
import type { createHttpServer } from '../../src/serve/http-server.ts';
import type { ModelRegistry } from '../../src/serve/model-registry.ts';
import { writeExport } from '../../src/train/export-writer.ts';
import { edgeInstanceLines } from '../helpers/edge-instances.ts';
import { findPython } from '../helpers/python-venv.ts';
import { tinyTrainedModel } from '../helpers/tiny-model.ts';
import { serveOnLoopback } from '../helpers/served-http.ts';

const run = promisify(execFile);
const REPRO = resolve(import.meta.dirname, '../python/repro.py');
const UNSEEN_LINE = 4;

const choice = await findPython();
if (choice.createdSeconds !== undefined)
  console.log(`python-repro: made ${choice.python}'s venv in ${choice.createdSeconds.toFixed(1)} s`);
const ci = process.env.CI === 'true';
if (!choice.python && !ci) console.warn(`Python reproduction test skipped: ${choice.why}`);

describe.skipIf(!choice.python && !ci)('Python reproduction of served predictions', () => {
  let root: string;
  let app: ReturnType<typeof createHttpServer>;
  let registry: ModelRegistry;
  let base: string;
  let lines: string[];

  beforeAll(async () => {
    if (!choice.python) throw new Error(`no Python for repro.py: ${choice.why}`);
    root = await mkdtemp(join(tmpdir(), 'lionctr-pyrepro-'));
    const trained = await tinyTrainedModel(2);
    lines = edgeInstanceLines(trained.schema, false); // a predict body: numeric slots take JSON numbers only
    const seen = lines.filter((_, i) => i !== UNSEEN_LINE).map((l) => JSON.parse(l));
    const g = trained.model.gather(trained.featurizer.fromInstances(seen), true);
    let s = 7;
    for (let k = 0; k < g.rowIdx.length; k++) {
      const t = trained.model.tables[k % trained.model.slots.length];
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      t.rows.data[t.rows.weightsAt(g.rowIdx[k])] += s / 4294967296 - 0.5;
    }
    await writeExport(root, trained.model, {
      step: 2,
      examples: 1024,
      sourceOffsets: {},
      watermarkMs: null,
      metrics: {},
    });
    trained.model.dispose();
    ({ registry, app, base } = await serveOnLoopback(root));
  });
  afterAll(async () => {
    await app?.close();
    registry?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('a Python interpreter with numpy, pyarrow, onnxruntime and xxhash is available', () => {
    expect(choice.why).toBe('');
  });

  it('repro.py on the export directory gives the served predictions within 1e-5', async () => {
    const body = `{"instances": [${lines.join(',\n')}]}`;
    const res = await fetch(`${base}/v1/models/ctr:predict`, { method: 'POST', body });
    expect(res.status).toBe(200);
    const served = (await res.json()) as { predictions: number[] };
    const servedVersion = res.headers.get('x-lionctr-model-version'); // TF Serving's body has no version field
    const jsonl = join(root, 'instances.jsonl');
    await writeFile(jsonl, `${lines.join('\n')}\n`);
    const t0 = performance.now();
    const { stdout } = await run(choice.python!, [REPRO, root, jsonl], { timeout: 60_000 });
    const seconds = (performance.now() - t0) / 1000;
    const repro = JSON.parse(stdout) as { predictions: number[]; model_version: string };
    expect(repro.model_version).toBe(servedVersion);
    expect(repro.predictions).toHaveLength(lines.length);
    const diffs = repro.predictions.map((p, i) => Math.abs(p - served.predictions[i]));
    console.log(
      `python-repro: ${lines.length} instances, max |diff| ${Math.max(...diffs).toExponential(2)}, ` +
        `${seconds.toFixed(2)} s`,
    );
    expect(Math.max(...diffs)).toBeLessThan(1e-5);
    expect(new Set(served.predictions.map((p) => p.toFixed(4))).size).toBeGreaterThan(lines.length / 2);
  });

  it('repro.py reproduces an FM model (DeepFM term) as loaded for serving, within 1e-5', async () => {
    const schema = { numeric: ['I1', 'I2', 'I3', 'I4'], categorical: ['C1', 'C2', 'C3'], embeddingDim: 3 };
    const model = new CtrModel(schema, { hidden: [5], initStd: 0.5, seed: 5, fm: true });
    const fmLines = edgeInstanceLines(schema);
    const instances = fmLines.map((l) => JSON.parse(l));
    model.gather(new Featurizer(schema).fromInstances(instances), true);
    for (const t of model.tables) for (let r = 0; r < t.size; r++) t.rows.data[t.rows.weightsAt(r)] = Math.sin(r) * 0.4;
    const fmRoot = join(root, 'fm');
    const { dir } = await writeExport(fmRoot, model, {
      step: 1,
      examples: 1,
      sourceOffsets: {},
      watermarkMs: null,
      metrics: {},
    });
    model.dispose();
    const served = await loadExport(dir);
    const want = served.model.predict(new Featurizer(schema).fromInstances(instances));
    served.model.dispose();
    const jsonl = join(fmRoot, 'instances.jsonl');
    await writeFile(jsonl, fmLines.join('\n'));
    const { stdout } = await run(choice.python!, [REPRO, dir, jsonl], { timeout: 60_000 });
    const got = (JSON.parse(stdout) as { predictions: number[] }).predictions;
    expect(Math.max(...got.map((p, i) => Math.abs(p - want[i])))).toBeLessThan(1e-5);
    expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(0.1);
  });

  it("repro.py applies the manifest's negative_rate and unknown_slots as serving does, within 1e-5", async () => {
    const schema = { numeric: ['I1', 'I2'], categorical: ['C1', 'C2'], embeddingDim: 3 };
    const model = new CtrModel(schema, { hidden: [4], initStd: 0.5, seed: 9 });
    model.rules = { unknownSlots: 'ignore', negativeRate: 0.25 };
    const instances = Array.from({ length: 20 }, (_, i) => ({ C1: `a${i % 5}`, C2: `b${i % 3}`, I1: i, Zz: 'x' }));
    model.gather(new Featurizer(schema).fromInstances(instances.map(({ Zz: _, ...r }) => r)), true);
    for (const t of model.tables) for (let r = 0; r < t.size; r++) t.rows.data[t.rows.weightsAt(r)] = Math.cos(r) * 0.6;
    const nrRoot = join(root, 'negative-rate');
    const { dir } = await writeExport(nrRoot, model, {
      step: 1,
      examples: 1,
      sourceOffsets: {},
      watermarkMs: null,
      metrics: {},
    });
    const raw = model.predict(new Featurizer(schema).fromInstances(instances.map(({ Zz: _, ...r }) => r)));
    model.dispose();
    const served = await serveOnLoopback(nrRoot);
    try {
      const body = JSON.stringify({ instances });
      const res = await fetch(`${served.base}/v1/models/ctr:predict`, { method: 'POST', body });
      expect(res.status).toBe(200); // Zz dropped: the export's unknown_slots is ignore
      const want = ((await res.json()) as { predictions: number[] }).predictions;
      // recalibrated: q / (q + (1 - q) / 0.25) of the model's own q
      for (const [i, p] of want.entries()) expect(p).toBeCloseTo(raw[i] / (raw[i] + (1 - raw[i]) / 0.25), 6);
      const jsonl = join(nrRoot, 'instances.jsonl');
      await writeFile(jsonl, instances.map((x) => JSON.stringify(x)).join('\n'));
      const { stdout } = await run(choice.python!, [REPRO, dir, jsonl], { timeout: 60_000 });
      const got = (JSON.parse(stdout) as { predictions: number[] }).predictions;
      expect(Math.max(...got.map((p, i) => Math.abs(p - want[i])))).toBeLessThan(1e-5);
    } finally {
      await served.app.close();
      served.registry.stop();
    }
  });

  it("repro.py formats and parses numbers as V8's String(x) and Number(s)", async () => {
    let s = 99;
    const rand = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 4294967296;
    };
    const view = new DataView(new ArrayBuffer(8));
    const xs: number[] = [5e-324, 1.7976931348623157e308, 1e21, 1e-6, 1e-7, 123e-20, 0.1 + 0.2];
    while (xs.length < 3000) {
      view.setUint32(0, rand() * 2 ** 32);
      view.setUint32(4, rand() * 2 ** 32);
      const bits = view.getFloat64(0);
      if (Number.isFinite(bits)) xs.push(bits);
      xs.push(rand() * 10 ** Math.floor(rand() * 50 - 25), Math.floor(rand() * 1e6) / 10 ** Math.floor(rand() * 10));
    }
    const strs = [' 12 ', '0x1F', '0o17', '0b101', '+0x1', '1_0', '1e', '.', '+.5', '5.', '-.5e-3', '\u00a012\u3000'];
    strs.push('\ufeff3', '\u001c3', '\u00853', 'Infinity', '-Infinity', 'infinity', 'nan', '0x', '1e400', '٣');
    const code = [
      'import json, math, sys',
      `sys.path.insert(0, ${JSON.stringify(resolve(import.meta.dirname, '../python'))})`,
      'import repro',
      'd = json.load(sys.stdin)',
      'n = lambda v: "NaN" if math.isnan(v) else repro.js_number_to_string(v) if math.isfinite(v) else str(v)',
      'f = [repro.js_number_to_string(x) for x in d[0]]',
      'print(json.dumps([f, [n(repro.js_string_to_number(t)) for t in d[1]]]))',
    ].join('\n');
    const child = run(choice.python!, ['-c', code], { timeout: 60_000 });
    child.child.stdin!.end(JSON.stringify([xs, strs]));
    const [formatted, parsed] = JSON.parse((await child).stdout) as [string[], string[]];
    expect(formatted).toEqual(xs.map(String));
    const js = (v: number) => (Number.isNaN(v) ? 'NaN' : Number.isFinite(v) ? String(v) : v > 0 ? 'inf' : '-inf');
    expect(parsed).toEqual(strs.map((t) => js(Number(t))));
  });
});
