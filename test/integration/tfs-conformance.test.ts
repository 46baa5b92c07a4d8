/**
 * Conformance with TF Serving's REST API (tensorflow/serving g3doc/api_rest.md): every request
 * shape of the doc and each error case, over real HTTP to a real server on real exports,
 * checked against TF Serving's status codes and error strings. The strings are quoted from
 * tensorflow/serving at 9d981c5c2708d23c5407c7c1e30309e6f9798874 (file:line in comments);
 * lionctr's deliberate differences are marked "lionctr:".
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/catalogue.ts';
import { createHttpServer, VERSION_HEADER } from '../../src/serve/http-server.ts';
import { ModelRegistry } from '../../src/serve/model-registry.ts';
import { writeExport } from '../../src/train/export-writer.ts';
import { sampleInstances, tinyTrainedModel } from '../helpers/tiny-model.ts';
import { serveOnLoopback } from '../helpers/served-http.ts';

const meta = (step: number) => ({ step, examples: step * 512, sourceOffsets: {}, watermarkMs: null, metrics: {} });
type Reply = { status: number; body: Record<string, unknown>; version: string | null; allow: string | null };

describe("TF Serving's REST API", () => {
  let dir: string;
  let base: string;
  let registry: ModelRegistry;
  let app: ReturnType<typeof createHttpServer>;
  let trained: Awaited<ReturnType<typeof tinyTrainedModel>>;
  let v1: string, v2: string;
  const metrics = createMetrics();
  const call = async (method: string, path: string, body?: unknown): Promise<Reply> => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const res = await fetch(`${base}${path}`, { method, body: payload });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? JSON.parse(text) : {},
      version: res.headers.get(VERSION_HEADER),
      allow: res.headers.get('allow'),
    };
  };
  const post = (path: string, body?: unknown) => call('POST', path, body);
  const scores = async (v: string, instances: Record<string, unknown>[]) => {
    const m = registry.loaded().find((x) => x.version === v);
    if (!m) throw new Error(`${v} not loaded`);
    // the serving path's scores (onnxruntime or tfjs per serve.tower; predict() is tfjs, equal within 1e-5)
    return Array.from(await m.model.score(m.featurizer.fromInstances(instances)));
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lionctr-tfs-'));
    trained = await tinyTrainedModel(2);
    v1 = (await writeExport(dir, trained.model, meta(1), 10)).version;
    trained.step.run(trained.featurizer.fromInstances(sampleInstances(256, trained.schema)));
    v2 = (await writeExport(dir, trained.model, meta(2), 10)).version;
    const labels = { stable: v1, canary: v2 };
    ({ registry, app, base } = await serveOnLoopback(dir, { policy: { keepVersions: 2, labels }, metrics }));
  });
  afterAll(async () => {
    await app?.close();
    registry?.stop();
    trained?.model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('before the first export: status and predict answer 404 with TF Serving messages', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'lionctr-tfs-empty-'));
    const r0 = new ModelRegistry(empty, pino({ level: 'silent' }), 0);
    await r0.check();
    const a0 = createHttpServer({ registry: r0, metrics: createMetrics(), modelName: 'ctr' });
    try {
      const status = await a0.inject({ method: 'GET', url: '/v1/models/ctr' });
      expect(status.statusCode).toBe(404);
      // get_model_status_impl.cc:100 "Could not find any versions of model ", model_name
      expect(status.json()).toEqual({
        error: 'Could not find any versions of model ctr',
        code: 'LIONCTR_NOT_FOUND',
        where: 'url',
      });
      const pred = await a0.inject({ method: 'POST', url: '/v1/models/ctr:predict', payload: { instances: [{}] } });
      expect(pred.statusCode).toBe(404);
      // basic_manager.cc:139 "Servable not found for request: " + manager.h:158 "Latest(", name, ")"
      expect(pred.json().error).toBe('Servable not found for request: Latest(ctr)');
      expect((await a0.inject({ method: 'GET', url: '/v1/lionctr/models/ctr' })).json()).toMatchObject({
        default_version: null,
        versions: [],
      });
    } finally {
      await a0.close();
      r0.stop();
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('model status: GetModelStatusResponse exactly, all versions newest first, by version and by label', async () => {
    const entry = (version: string) => ({
      version,
      state: 'AVAILABLE',
      status: { error_code: 'OK', error_message: '' },
    });
    const all = await call('GET', '/v1/models/ctr');
    expect(all).toMatchObject({ status: 200, body: { model_version_status: [entry(v2), entry(v1)] } });
    expect(Object.keys(all.body)).toEqual(['model_version_status']);
    expect((await call('GET', `/v1/models/ctr/versions/${v1}`)).body).toEqual({ model_version_status: [entry(v1)] });
    // lionctr: a label resolves to its version (TF Serving's status API lists every version for a label)
    expect((await call('GET', '/v1/models/ctr/labels/canary')).body).toEqual({ model_version_status: [entry(v2)] });
    // paths match case-insensitively: http_rest_api_util.cc:33 kModelStatusApiRegex "(?i)/v1/models..."
    expect((await call('GET', `/V1/MODELS/ctr/Versions/${v1}`)).status).toBe(200);
    expect((await call('HEAD', '/v1/models/ctr')).status).toBe(200); // lionctr: HEAD where GET is
  });

  it('model metadata: a serving_default signature_def, one input per slot and the output', async () => {
    const r = await call('GET', '/v1/models/ctr/metadata');
    expect(r.status).toBe(200);
    expect(r.version).toBe(v2);
    const shape = { dim: [{ size: '-1', name: '' }], unknown_rank: false };
    expect(r.body.model_spec).toEqual({ name: 'ctr', signature_name: '', version: v2 });
    const sig = (r.body.metadata as { signature_def: { signature_def: Record<string, Record<string, unknown>> } })
      .signature_def.signature_def.serving_default;
    expect(Object.keys(sig)).toEqual(['inputs', 'outputs', 'method_name', 'defaults']);
    const inputs = sig.inputs as Record<string, unknown>;
    expect(Object.keys(inputs).sort()).toEqual([...trained.schema.categorical, ...trained.schema.numeric].sort());
    expect(inputs.C1).toEqual({ dtype: 'DT_STRING', tensor_shape: shape, name: 'C1:0' });
    expect(inputs.I1).toEqual({ dtype: 'DT_FLOAT', tensor_shape: shape, name: 'I1:0' });
    expect(sig.outputs).toEqual({ predictions: { dtype: 'DT_FLOAT', tensor_shape: shape, name: 'predictions:0' } });
    expect(sig.method_name).toBe('tensorflow/serving/predict');
    const byLabel = await call('GET', '/v1/models/ctr/labels/stable/metadata');
    expect([byLabel.version, (byLabel.body.model_spec as { version: string }).version]).toEqual([v1, v1]);
    expect((await call('GET', `/v1/models/ctr/versions/${v1}/metadata`)).version).toBe(v1);
  });

  it('predict: rows -> "predictions", columns -> "outputs", by version and label, named in a header', async () => {
    const instances = sampleInstances(3, trained.schema);
    const rows = await post('/v1/models/ctr:predict', { signature_name: 'serving_default', instances });
    expect(rows).toMatchObject({ status: 200, version: v2, body: { predictions: await scores(v2, instances) } });
    expect(Object.keys(rows.body)).toEqual(['predictions']);
    const inputs = Object.fromEntries(Object.keys(instances[0]).map((k) => [k, instances.map((i) => i[k])]));
    const cols = await post('/v1/models/ctr:predict', { inputs });
    expect(cols).toMatchObject({ status: 200, version: v2, body: { outputs: await scores(v2, instances) } });
    const old = await post(`/V1/Models/ctr/VERSIONS/${v1}:predict`, { instances });
    expect(old).toMatchObject({ status: 200, version: v1, body: { predictions: await scores(v1, instances) } });
    expect(await scores(v1, instances)).not.toEqual(await scores(v2, instances));
    expect((await post('/v1/models/ctr/labels/stable:predict', { instances })).version).toBe(v1);
    expect((await post('/v1/models/ctr/labels/canary:predict', { instances })).version).toBe(v2);
  });

  it('a categorical value sent as {"b64": ...} scores as the text it encodes (rows, columns, examples)', async () => {
    const instances = sampleInstances(3, trained.schema);
    const want = await scores(v2, instances);
    const b64 = (v: unknown) => (typeof v === 'string' ? { b64: Buffer.from(v, 'utf8').toString('base64') } : v);
    const encoded = instances.map((i) => Object.fromEntries(Object.entries(i).map(([k, v]) => [k, b64(v)])));
    expect(JSON.stringify(encoded)).toContain('"b64"');
    expect(await post('/v1/models/ctr:predict', { instances: encoded })).toMatchObject({
      status: 200,
      body: { predictions: want },
    });
    const inputs = Object.fromEntries(Object.keys(encoded[0]).map((k) => [k, encoded.map((i) => i[k])]));
    expect((await post('/v1/models/ctr:predict', { inputs })).body).toEqual({ outputs: want });
    expect((await post('/v1/models/ctr:regress', { examples: encoded })).body).toEqual({ results: want });
    const bad = await post('/v1/models/ctr:predict', { instances: [{ C1: { b64: 'not base64!' } }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/Unable to base64 decode$/);
  });

  it('classify -> [[["", p]], ...] and regress -> [p, ...], with "context" shared by the examples', async () => {
    const examples = sampleInstances(2, trained.schema);
    const want = await scores(v2, examples);
    const c = await post('/v1/models/ctr:classify', { examples });
    expect(c).toMatchObject({ status: 200, version: v2, body: { results: want.map((p) => [['', p]]) } });
    const r = await post(`/v1/models/ctr/versions/${v1}:regress`, { signature_name: '', examples });
    expect(r).toMatchObject({ status: 200, version: v1, body: { results: await scores(v1, examples) } });
    const ctx = await post('/v1/models/ctr:regress', { context: { C1: '3' }, examples: [{ I1: [2] }, { C1: '4' }] });
    expect(ctx.body.results).toEqual(await scores(v2, [{ C1: '3', I1: 2 }, { C1: '4' }]));
  });

  it("answers each fault with TF Serving's status and error string", async () => {
    const inst = { instances: [{ C1: 'a' }] };
    // [method, path, body, status, TF Serving's error (exact), where its source words it]
    const cases: [string, string, unknown, number, string, string][] = [
      ['GET', '/v1/models/other', undefined, 404, 'Could not find any versions of model other', 'status_impl:100'],
      ['GET', '/v1/models/ctr/versions/123', undefined, 404, 'Could not find version 123 of model ctr', 'impl:89'],
      ['GET', '/v1/models/ctr/labels/nope', undefined, 400, 'Unrecognized servable version label: nope', 'core:891'],
      ['GET', '/v1/models', undefined, 400, 'Missing model name in request.', 'handler.cc:188'],
      ['GET', '/v1/foo', undefined, 400, 'Malformed request: GET /v1/foo', 'handler.cc:75'],
      ['POST', '/v1/models/ctr:PREDICT', inst, 400, 'Malformed request: POST /v1/models/ctr:PREDICT', 'handler:75'],
      ['GET', '/v1/models/other/metadata', undefined, 404, 'Servable not found for request: Latest(other)', 'bm:139'],
      ['POST', '/v1/models/other:predict', inst, 404, 'Servable not found for request: Latest(other)', 'manager.h:158'],
      [
        'POST',
        '/v1/models/ctr/versions/123:predict',
        inst,
        404,
        'Servable not found for request: Specific(ctr, 123)',
        'h:152',
      ],
      [
        'POST',
        '/v1/models/ctr/labels/nope:predict',
        inst,
        400,
        'Unrecognized servable version label: nope',
        'core:891',
      ],
      [
        'POST',
        '/v1/models/ctr/versions/99999999999999999999:predict',
        inst,
        400,
        'Failed to convert version: 99999999999999999999 to numeric.',
        'http_rest_api_util.cc:119',
      ],
      // json_tensor.cc
      ['POST', '/v1/models/ctr:predict', '', 400, 'JSON Parse error: The document is empty', 'json_tensor.cc:475'],
      ['POST', '/v1/models/ctr:predict', '[1, 2]', 400, 'JSON Value: [1, 2] Is not object', 'json_tensor.cc:499'],
      [
        'POST',
        '/v1/models/ctr:predict',
        { signature_name: 5, instances: [{}] },
        400,
        'JSON Value: {\n    "signature_name": 5,\n    "instances": [{}]\n} not formatted correctly. ' +
          "'signature_name' key must be a string value.",
        'json_tensor.cc:283',
      ],
      [
        'POST',
        '/v1/models/ctr:predict',
        { signature_name: 'x', ...inst },
        400,
        'Serving signature name: "x" not found in signature def',
        'http_rest_api_handler.cc:238',
      ],
      [
        'POST',
        '/v1/models/ctr:predict',
        { instances: [{}], inputs: {} },
        400,
        'JSON Value: {\n    "instances": [{}],\n    "inputs": {}\n} Not formatted correctly expecting only ' +
          "one of 'inputs' or 'instances' keys to exist ",
        'json_tensor.cc:679',
      ],
      ['POST', '/v1/models/ctr:predict', { signature_name: '' }, 400, "Missing 'inputs' or 'instances' key", 'jt:704'],
      [
        'POST',
        '/v1/models/ctr:predict',
        { instances: [] },
        400,
        'JSON Value: {\n    "instances": []\n} No values in \'instances\' array',
        'json_tensor.cc:688',
      ],
      [
        'POST',
        '/v1/models/ctr:predict',
        { instances: 'x' },
        400,
        'JSON Value: {\n    "instances": "x"\n} Expecting \'instances\' to be an list/array',
        'json_tensor.cc:684',
      ],
      [
        'POST',
        '/v1/models/ctr:predict',
        { instances: [1, 2] },
        400,
        'instances is a plain list, but expecting list of objects as multiple input tensors required as per ' +
          'tensorinfo_map',
        'json_tensor.cc:528',
      ],
      [
        'POST',
        '/v1/models/ctr:predict',
        { instances: [{}, [1]] },
        400,
        'Expecting object but got list at item 1 of input list',
        'json_tensor.cc:553',
      ],
      [
        'POST',
        '/v1/models/ctr:predict',
        { instances: [{ C99: 'a' }] },
        400,
        "Failed to process element: 0 key: C99 of 'instances' list. Error: INVALID_ARGUMENT: JSON object: does not " +
          'have named input: C99',
        'json_tensor.cc:564 + :449',
      ],
      [
        'POST',
        '/v1/models/ctr:predict',
        { instances: [{}, { I1: 'x' }] },
        400,
        'Failed to process element: 1 key: I1 of \'instances\' list. Error: INVALID_ARGUMENT: JSON Value: "x" ' +
          'Type: String is not of expected type: float',
        'json_tensor.cc:564 + :263',
      ],
      // a numeric string: TF Serving's DT_FLOAT takes JSON numbers only (AddValueToTensor: !val.IsNumber())
      [
        'POST',
        '/v1/models/ctr:predict',
        { instances: [{ I1: '1.5' }] },
        400,
        'Failed to process element: 0 key: I1 of \'instances\' list. Error: INVALID_ARGUMENT: JSON Value: "1.5" ' +
          'Type: String is not of expected type: float',
        'json_tensor.cc:564 + :263',
      ],
      [
        'POST',
        '/v1/models/ctr:predict',
        { inputs: { I2: [1, '1.5'] } },
        400,
        'JSON Value: "1.5" Type: String is not of expected type: float',
        'json_tensor.cc:263',
      ],
      [
        'POST',
        '/v1/models/ctr:predict',
        { inputs: [1] },
        400,
        'inputs is a plain value/list, but expecting an object as multiple input tensors required as per ' +
          'tensorinfo_map',
        'json_tensor.cc:620',
      ],
      ['POST', '/v1/models/ctr:predict', { inputs: {} }, 400, "Missing named input: C1 in 'inputs' object.", 'jt:635'],
      [
        'POST',
        '/v1/models/ctr:predict',
        { inputs: { I2: [1, true] } },
        400,
        'JSON Value: true Type: True is not of expected type: float',
        'json_tensor.cc:263',
      ],
      [
        'POST',
        '/v1/models/ctr:classify',
        { signature_name: 'serving_default' },
        400,
        'JSON Value: {\n    "signature_name": "serving_default"\n} When method is classify, key \'examples\' is ' +
          'expected and was not found',
        'json_tensor.cc:839 (also for regress)',
      ],
      [
        'POST',
        '/v1/models/ctr:regress',
        { examples: {} },
        400,
        'JSON Value: {\n    "examples": {}\n} Expecting \'examples\' value to be an list/array',
        'jt:844',
      ],
      [
        'POST',
        '/v1/models/ctr:classify',
        { examples: [] },
        400,
        'JSON Value: {\n    "examples": []\n} \'examples\' value is an empty array',
        'json_tensor.cc:849',
      ],
      [
        'POST',
        '/v1/models/ctr:classify',
        { examples: [[1]] },
        400,
        'Example must be JSON object but got JSON Array',
        'json_tensor.cc:799',
      ],
      [
        'POST',
        '/v1/models/ctr:regress',
        { context: 1, examples: [{}] },
        400,
        'Example must be JSON object but got JSON Number',
        'json_tensor.cc:799',
      ],
      [
        'POST',
        '/v1/models/ctr:regress',
        { examples: [{ C1: null }] },
        400,
        'Feature: C1 has element with unexpected JSON type: Null',
        'json_tensor.cc:741',
      ],
      [
        'POST',
        '/v1/models/ctr:regress',
        { examples: [{ C1: ['a', 1] }] },
        400,
        'Unexpected element type in feature: C1 expecting type: bytes',
        'json_tensor.cc:731',
      ],
      [
        'POST',
        '/v1/models/ctr:classify',
        { signature_name: 'x', examples: [{}] },
        400,
        'No signature was found with the name: x',
        'classifier.cc:160',
      ],
      [
        'POST',
        '/v1/models/ctr:regress',
        { signature_name: 'x', examples: [{}] },
        400,
        'No signature was found with the name: x',
        'regressor.cc:155',
      ],
      // NaN / Infinity literals: rapidjson reads them (json_tensor.cc ParseJson: kParseNanAndInfFlag); a numeric
      // slot refuses them (lionctr: TF Serving would feed them to the model), a categorical slot as any number
      [
        'POST',
        '/v1/models/ctr:predict',
        '{"instances": [{"C1": "a", "I1": NaN}]}',
        400,
        "Failed to process element: 0 key: I1 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: NaN is not " +
          "a finite number: lionctr's numeric slots take finite numbers (null for a missing value)",
        'lionctr (rapidjson reader.h ParseNumber takes NaN)',
      ],
      [
        'POST',
        '/v1/models/ctr:predict',
        '{"inputs": {"I2": [1, -Infinity]}}',
        400,
        "JSON Value: -Infinity is not a finite number: lionctr's numeric slots take finite numbers (null for a " +
          'missing value)',
        'lionctr (rapidjson reader.h ParseNumber takes -Infinity)',
      ],
      [
        'POST',
        '/v1/models/ctr:predict',
        '{"instances": [{"C1": Inf}]}',
        400,
        "Failed to process element: 0 key: C1 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: Infinity " +
          'Type: Number is not of expected type: string',
        'json_tensor.cc:564 + :263 (WriteDecimal writes inf as Infinity)',
      ],
      // content after the document: rapidjson parses without kParseStopWhenDoneFlag (json_tensor.cc ParseJson),
      // kParseErrorDocumentRootNotSingular (error/en.h) at the byte offset of the extra content
      [
        'POST',
        '/v1/models/ctr:predict',
        '{"instances": [{"C1": "a"}]} {"instances": []}',
        400,
        'JSON Parse error: The document root must not be followed by other values. at offset: 29',
        'json_tensor.cc:487',
      ],
      [
        'POST',
        '/v1/models/ctr:predict',
        '{"instances": [{"C1": "é"}]}x',
        400,
        'JSON Parse error: The document root must not be followed by other values. at offset: 29',
        'json_tensor.cc:487 (the offset in bytes)',
      ],
      // a categorical slot is a DT_STRING input: a number gets TypeError (AddValueToTensor: !val.IsString())
      [
        'POST',
        '/v1/models/ctr:predict',
        { instances: [{ C1: 5 }] },
        400,
        "Failed to process element: 0 key: C1 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: 5 Type: " +
          'Number is not of expected type: string',
        'json_tensor.cc:564 + :263',
      ],
      [
        'POST',
        '/v1/models/ctr:predict',
        { inputs: { C1: ['a', 1.5] } },
        400,
        'JSON Value: 1.5 Type: Number is not of expected type: string',
        'json_tensor.cc:263',
      ],
      [
        'POST',
        '/v1/models/ctr:regress',
        { examples: [{ C1: 7 }] },
        400,
        'JSON Value: 7 Type: Number is not of expected type: string',
        'lionctr: the predict words (TF Serving: its Example parser refuses an int64 feature for a string one)',
      ],
      // a float that cannot hold the value exactly (IsLosslessDecimal<float>: integers up to 2^24 - 1, |x| up to
      // FLT_MAX): LossyDecimalError
      [
        'POST',
        '/v1/models/ctr:predict',
        '{"instances": [{"I1": 16777216}]}',
        400,
        "Failed to process element: 0 key: I1 of 'instances' list. Error: INVALID_ARGUMENT: Cannot convert JSON " +
          'value: 16777216 to float without loss of precision.',
        'json_tensor.cc:564 + :237',
      ],
      [
        'POST',
        '/v1/models/ctr:predict',
        '{"inputs": {"I1": [-16777217]}}',
        400,
        'Cannot convert JSON value: -16777217 to float without loss of precision.',
        'json_tensor.cc:237',
      ],
      [
        'POST',
        '/v1/models/ctr:predict',
        '{"inputs": {"I1": [1e39]}}',
        400,
        'Cannot convert JSON value: 1e39 to float without loss of precision.',
        'json_tensor.cc:237',
      ],
      // lionctr: 405 with Allow where TF Serving answers 400 with the same message (handler.cc:75)
      ['GET', '/v1/models/ctr:predict', undefined, 405, 'Malformed request: GET /v1/models/ctr:predict', 'h:75'],
      ['PUT', '/v1/models/ctr', '{}', 405, 'Malformed request: PUT /v1/models/ctr', 'http_rest_api_handler.cc:75'],
    ];
    for (const [method, path, body, status, error, source] of cases) {
      const r = await call(method, path, body);
      const what = `${method} ${path} ${JSON.stringify(body)} (${source})`;
      expect(r.status, what).toBe(status);
      expect(r.body.error, what).toBe(error);
      expect(Object.keys(r.body).sort(), what).toEqual(['code', 'error', 'where']);
      if (status === 405) expect(r.allow, what).toBe(method === 'GET' ? 'POST' : 'GET, HEAD');
    }
    // bad JSON: TF Serving quotes rapidjson's words, lionctr V8's after the same prefix (json_tensor.cc:487)
    expect((await post('/v1/models/ctr:predict', '{"instances": [')).body.error).toMatch(/^JSON Parse error: \S/);
    // what rapidjson takes as a float exactly: 16777215, and an integer-valued decimal (a double to rapidjson)
    for (const body of ['{"instances": [{"I1": 16777215}]}', '{"instances": [{"I1": 16777217.0, "I2": 2e9}]}'])
      expect((await post('/v1/models/ctr:predict', body)).status, body).toBe(200);
    // a %-escape is decoded in the version segment as in the model name and the label (TF Serving matches the
    // version as \d+ before decoding: %31 is a malformed request there)
    const escaped = (s: string) => [...s].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
    const byEscaped = await post(`/v1/models/%63tr/versions/${escaped(v2)}:predict`, inst);
    expect(byEscaped.status).toBe(200);
    expect(byEscaped.version).toBe(v2);
    expect((await call('GET', `/v1/models/ctr/versions/${escaped(v1)}`)).status).toBe(200);
    expect((await post('/v1/models/ctr/versions/%41:predict', inst)).body.error).toBe(
      'Malformed request: POST /v1/models/ctr/versions/%41:predict',
    );
    // a URL fastify cannot decode: 400 with a LIONCTR_* code like every other answer (it was FST_ERR_BAD_URL)
    const badUrl = await post('/v1/models/ctr%ZZ:predict', inst);
    expect(badUrl.status).toBe(400);
    expect(badUrl.body).toMatchObject({ code: 'LIONCTR_BAD_REQUEST', where: 'url' });
    // HTTP/1.1 without a Host header: answered as any request (Node's default was a bare 400 without a body)
    const noHost = await rawRequest(
      base,
      `POST /v1/models/ctr:predict HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: ${
        JSON.stringify(inst).length
      }\r\nConnection: close\r\n\r\n${JSON.stringify(inst)}`,
    );
    expect(noHost).toMatch(/^HTTP\/1\.1 200 /);
    expect(noHost).toContain('"predictions"');
    // the server keeps serving, and the metrics count by route and code
    expect((await post('/v1/models/ctr:predict', inst)).status).toBe(200);
    const text = await metrics.registry.metrics();
    for (const [route, code] of [
      ['predict', 405],
      ['status', 404],
      ['metadata', 404],
      ['classify', 400],
    ])
      expect(text).toContain(`lionctr_serve_requests_total{route="${route}",code="${code}"}`);
  });

  it('extras at a path of their own; a new version keeps labelled ones loaded beside the newest', async () => {
    const x = await call('GET', '/v1/lionctr/models/ctr');
    expect(x.status).toBe(200);
    expect(x.body).toMatchObject({ model_name: 'ctr', default_version: v2, labels: { stable: v1, canary: v2 } });
    const versions = x.body.versions as { version: string; step: number; created_at: string }[];
    expect(versions.map((v) => [v.version, v.step])).toEqual([
      [v2, 2],
      [v1, 1],
    ]);
    expect(versions[0].created_at).toMatch(/^\d{4}-/);
    expect((await call('GET', '/v1/lionctr/models/other')).status).toBe(404);

    const v3 = (await writeExport(dir, trained.model, meta(3), 10)).version;
    await registry.check();
    const ids = ((await call('GET', '/v1/models/ctr')).body.model_version_status as { version: string }[]).map(
      (s) => s.version,
    );
    expect(ids).toEqual([v3, v2, v1]); // keepVersions 2 (v3 + the newest unlabelled other: none) + labelled v2, v1
    expect((await post('/v1/models/ctr:predict', { instances: [{}] })).version).toBe(v3);
  });
});

/** Sends `text` as is on a new TCP connection to `base` (http://host:port) and returns all it answers. */
function rawRequest(base: string, text: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = connect(Number(port), hostname, () => sock.write(text));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => resolve(Buffer.concat(chunks).toString()));
    sock.on('error', reject);
  });
}
