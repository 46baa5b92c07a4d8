/**
 * The ingest thread (src/ingest/threaded): batches cross threads by transfer (the sender's
 * buffers are detached, the receiver's columns are views into the one transferred buffer),
 * the queue between the threads is bounded by the credits the training side gives, a
 * threaded source yields exactly what the same source yields on one thread (rows and
 * features), errors on the ingest thread come back with the same code and message, and a
 * stop ends the stream at once.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { RecordBatch } from 'apache-arrow';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LionctrError } from '../../../src/errors.ts';
import type { FeatureBatch } from '../../../src/features/feature-batch.ts';
import { Featurizer } from '../../../src/features/featurizer.ts';
import type { FeatureSchema } from '../../../src/features/schema.ts';
import { createFileSource } from '../../../src/ingest/file-source.ts';
import type { Source } from '../../../src/ingest/source.ts';
import { createSyntheticSource } from '../../../src/ingest/synthetic-source.ts';
import { featuresOf } from '../../../src/ingest/threaded/batch-features.ts';
import type { FromIngest, OpenSource } from '../../../src/ingest/threaded/protocol.ts';
import type { SourceSpec } from '../../../src/ingest/threaded/source-spec.ts';
import { openThreadedSource } from '../../../src/ingest/threaded/threaded-source.ts';
import { errorFromData, errorToData, packBatch, unpackRecordBatch } from '../../../src/ingest/threaded/transfer.ts';
import { useFixture } from '../../helpers/fixture.ts';

const fx = useFixture();
const SYN = createSyntheticSource({ seed: 3 }).schema;
const FEATURES: FeatureSchema = { numeric: SYN.numeric, categorical: SYN.categorical, embeddingDim: 4, dims: {} };
const silent = pino({ level: 'silent' });
const featureKeys = (f: FeatureBatch) => Object.keys(f).filter((k) => ArrayBuffer.isView(f[k as keyof FeatureBatch]));

async function firstBatch(src: Source, batchSize: number): Promise<RecordBatch> {
  for await (const rb of src.batches({ batchSize })) return rb;
  throw new Error('no batch');
}

/** Every batch of `src` as [rows of label/offset/C1, its features]. */
async function drain(src: Source, batchSize: number, featurizer: Featurizer) {
  const out: { cells: unknown[]; features: FeatureBatch }[] = [];
  for await (const rb of src.batches({ batchSize })) {
    const cells = ['label', 'source_offset', 'C1', 'I1'].map((c) => [...rb.getChild(c)!]);
    out.push({ cells, features: featuresOf(featurizer, rb) });
  }
  return out;
}

describe('handing batches over', () => {
  it('moves the Arrow IPC buffer and the feature arrays: detached on the sender, views on the receiver', async () => {
    const rb = await firstBatch(createSyntheticSource({ seed: 3, limit: 700 }), 700);
    const features = new Featurizer(FEATURES).fromRecordBatch(rb);
    const want = { labels: [...features.labels], idLo: [...features.idLo], c1: [...rb.getChild('C1')!] };
    const { packed, transfer } = packBatch(rb, features);
    expect(transfer.length).toBe(1 + featureKeys(features).length);
    const { port1, port2 } = new MessageChannel();
    const got = new Promise<{ ipc: Uint8Array; features: FeatureBatch }>((res) => port2.once('message', res));
    port1.postMessage(packed, transfer);
    // the sender's buffers are moved, not copied: every one is detached now
    expect(packed.ipc.byteLength).toBe(0);
    for (const k of featureKeys(features))
      expect((features[k as keyof FeatureBatch] as Float32Array).byteLength).toBe(0);
    const m = await got;
    port1.close();
    const back = unpackRecordBatch(m.ipc);
    expect(back.numRows).toBe(700);
    expect([...back.getChild('C1')!]).toEqual(want.c1);
    expect([...m.features.labels]).toEqual(want.labels);
    expect([...m.features.idLo]).toEqual(want.idLo);
    // the received columns read the transferred buffer in place
    expect(back.getChild('source_offset')!.data[0].values.buffer).toBe(m.ipc.buffer);
  });

  it('an error crosses as data: LionctrError keeps code, message, where and reason; others name and fields', () => {
    const e = new LionctrError('LIONCTR_BAD_INPUT', 'input file not found', { where: '/x.tsv', reason: 'gone' });
    const back = errorFromData(structuredClone(errorToData(e))) as LionctrError;
    expect(back).toBeInstanceOf(LionctrError);
    expect([back.code, back.message, back.where, back.reason]).toEqual([e.code, e.message, e.where, e.reason]);
    const k = Object.assign(new Error('retries exceeded'), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      retriable: false,
      originalError: Object.assign(new Error('refused'), { name: 'KafkaJSConnectionError', code: 'ECONNREFUSED' }),
    });
    const kb = errorFromData(structuredClone(errorToData(k))) as Error & { originalError: Error & { code: string } };
    expect([kb.name, kb.message, kb.originalError.name, kb.originalError.code]).toEqual([
      'KafkaJSNumberOfRetriesExceeded',
      'retries exceeded',
      'KafkaJSConnectionError',
      'ECONNREFUSED',
    ]);
  });
});

describe('the ingest thread', () => {
  it('holds at most `credits` batches ahead until the training side pulls', async () => {
    const open: OpenSource = {
      spec: { kind: 'synthetic', options: { seed: 3 } },
      features: FEATURES,
      logLevel: 'silent',
    };
    const w = new Worker(new URL('../../../src/ingest/threaded/worker-boot.mjs', import.meta.url));
    const seen: FromIngest['type'][] = [];
    w.on('message', (m: FromIngest) => seen.push(m.type));
    const batches = () => seen.filter((t) => t === 'batch').length;
    const until = async (ok: () => boolean) => {
      for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
    };
    w.postMessage({ type: 'open', ...open });
    await until(() => seen.includes('ready'));
    w.postMessage({ type: 'start', batchSize: 256, credits: 3 });
    await until(() => batches() >= 3);
    await new Promise((r) => setTimeout(r, 400)); // an unbounded producer would send many more meanwhile
    expect(batches()).toBe(3);
    w.postMessage({ type: 'pull' });
    w.postMessage({ type: 'pull' });
    await until(() => batches() >= 5);
    await new Promise((r) => setTimeout(r, 200));
    expect(batches()).toBe(5);
    w.postMessage({ type: 'close' });
    await until(() => seen.includes('closed'));
    expect(seen.includes('closed')).toBe(true);
    await w.terminate();
  });

  it('a threaded source yields the rows and features the source yields on one thread', async () => {
    const spec: SourceSpec = { kind: 'synthetic', options: { seed: 3, limit: 2500 } };
    const threaded = await openThreadedSource({ spec, features: FEATURES, queueBatches: 2, logger: silent });
    expect(threaded.name).toBe('synthetic(seed=3)');
    const got = await drain(threaded, 512, new Featurizer(FEATURES));
    await threaded.close!();
    const want = await drain(createSyntheticSource(spec.options), 512, new Featurizer(FEATURES));
    expect(got.map((b) => b.cells)).toEqual(want.map((b) => b.cells));
    for (let i = 0; i < want.length; i++)
      for (const k of featureKeys(want[i].features))
        expect(got[i].features[k as keyof FeatureBatch], `batch ${i} ${k}`).toEqual(
          want[i].features[k as keyof FeatureBatch],
        );
    expect(threaded.stats()).toEqual({ rows: 2500, bad: {} });
  });

  it('errors of the ingest thread are thrown on the training thread with the same code and message', async () => {
    const dir = fx.tempDir('ingest-thread');
    const missing = { path: join(dir, 'nope.tsv'), format: 'criteo' as const, schema: SYN };
    const direct = (() => {
      try {
        createFileSource(missing);
      } catch (e) {
        return e as LionctrError;
      }
    })()!;
    const opened = openThreadedSource({
      spec: { kind: 'file', options: missing },
      features: FEATURES,
      queueBatches: 2,
      logger: silent,
    });
    await expect(opened).rejects.toMatchObject({ code: direct.code, message: direct.message, where: direct.where });
    // a bad batch size, thrown by batches() on the ingest thread
    const spec: SourceSpec = { kind: 'synthetic', options: { seed: 3, limit: 10 } };
    const src = await openThreadedSource({ spec, features: FEATURES, queueBatches: 2, logger: silent });
    const err = (await firstBatch(createSyntheticSource(spec.options), 0).catch((e) => e)) as LionctrError;
    await expect(firstBatch(src, 0)).rejects.toMatchObject({ code: err.code, message: err.message });
    await src.close!();
    // a bad row is counted as on one thread
    const path = join(dir, 'bad.tsv');
    writeFileSync(path, `1\t${'1\t'.repeat(12)}1${'\tab'.repeat(26)}\nnot a row\n`);
    const file = await openThreadedSource({
      spec: { kind: 'file', options: { path, format: 'criteo', schema: SYN } },
      features: FEATURES,
      queueBatches: 2,
      logger: silent,
    });
    expect((await drain(file, 10, new Featurizer(FEATURES))).length).toBe(1);
    await file.close!();
    expect(file.stats()).toEqual(await statsOnOneThread(path));
  });

  it('a stop ends the stream while the ingest thread waits, and close returns promptly', async () => {
    const spec: SourceSpec = { kind: 'synthetic', options: { seed: 3 } };
    const src = await openThreadedSource({ spec, features: FEATURES, queueBatches: 1, logger: silent });
    const ac = new AbortController();
    let n = 0;
    for await (const _ of src.batches({ batchSize: 128, signal: ac.signal })) if (++n === 3) ac.abort();
    expect(n).toBe(3);
    const t0 = performance.now();
    await src.close!();
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

async function statsOnOneThread(path: string) {
  const s = createFileSource({ path, format: 'criteo', schema: SYN });
  for await (const _ of s.batches({ batchSize: 10 })) {
  }
  return s.stats();
}
