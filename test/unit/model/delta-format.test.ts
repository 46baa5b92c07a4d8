/**
 * The delta format's pure helpers (src/model/delta-format.ts): directory names, the order of
 * a base's deltas, manifest validation (LIONCTR_BAD_EXPORT naming the file and the field),
 * the chain check (base, seq, version, prev_sha256) and tombstone tables.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { LionctrError } from '../../../src/errors.ts';
import {
  checkDeltaChain,
  DELTA_FORMAT,
  deltaDirName,
  deltaDirsIn,
  deltaTmpName,
  isConfinedPath,
  listDeltaDirs,
  parseDeltaDirName,
  parseDeltaManifest,
  tombstonesFromArrow,
  tombstonesToArrow,
  type DeltaManifest,
} from '../../../src/model/delta-format.ts';

const H = 'a'.repeat(64);
const good = (): DeltaManifest => ({
  format: DELTA_FORMAT,
  base_version: '1700000000000',
  seq: 2,
  version: '1700000000500',
  prev_sha256: H,
  step: 10,
  examples: 1280,
  created_at: '2026-01-01T00:00:00.000Z',
  source_offsets: { 'synthetic(seed=1)/0': 1280 },
  event_time_watermark_ms: null,
  metrics: { auc: 0.7, ne: null },
  rows: { C1: 3, C2: 0 },
  tombstones: { C1: 0, C2: 1 },
  files: { 'dense/weights.bin': H, 'embeddings/C1.arrow': H, 'tombstones/C2.arrow': H },
});

/** The LionctrError parseDeltaManifest throws for `m` (fails the test when none). */
function parseError(m: unknown): LionctrError {
  try {
    parseDeltaManifest(typeof m === 'string' ? m : JSON.stringify(m), '/x/1700000000000/delta-2/manifest.json');
  } catch (e) {
    expect(e).toBeInstanceOf(LionctrError);
    return e as LionctrError;
  }
  throw new Error('no error thrown');
}

describe('delta directory names', () => {
  it('delta-<n> in decimal without padding; nothing else', () => {
    expect(deltaDirName(3)).toBe('delta-3');
    expect(deltaTmpName(3)).toBe('.tmp-delta-3');
    expect(parseDeltaDirName('delta-1')).toBe(1);
    expect(parseDeltaDirName('delta-12')).toBe(12);
    for (const n of ['delta-0', 'delta-01', '.tmp-delta-1', 'delta-', 'delta-1a', 'delta--1', 'xdelta-1', '17'])
      expect(parseDeltaDirName(n), n).toBeNull();
  });

  it('lists the deltas of a base dir by n (10 after 9), leaving gaps and temp dirs to the caller', async () => {
    expect(deltaDirsIn(['delta-10', 'manifest.json', 'delta-9', '.tmp-delta-11', 'delta-2']).map((d) => d.seq)).toEqual(
      [2, 9, 10],
    );
    const dir = await mkdtemp(join(tmpdir(), 'lionctr-deltadirs-'));
    try {
      for (const n of ['delta-2', 'delta-1', 'delta-10', '.tmp-delta-3', 'dense']) await mkdir(join(dir, n));
      expect((await listDeltaDirs(dir)).map((d) => [d.seq, d.dir])).toEqual([
        [1, join(dir, 'delta-1')],
        [2, join(dir, 'delta-2')],
        [10, join(dir, 'delta-10')],
      ]);
      expect(await listDeltaDirs(join(dir, 'gone'))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('file paths stay inside the delta dir', () => {
    for (const p of ['dense/weights.bin', 'embeddings/C1.arrow']) expect(isConfinedPath(p), p).toBe(true);
    for (const p of ['', '../x', 'a/../../b', '/etc/passwd', 'a//b', './a', 'a\\b', 'a/.'])
      expect(isConfinedPath(p), p).toBe(false);
  });
});

describe('parseDeltaManifest', () => {
  it('accepts a valid manifest as it is', () => {
    expect(parseDeltaManifest(JSON.stringify(good()), 'm.json')).toEqual(good());
  });

  it('rejects each malformed field with LIONCTR_BAD_EXPORT naming the file and the field', () => {
    const cases: [string, (m: Record<string, unknown>) => void, RegExp][] = [
      ['format', (m) => (m.format = 'lionctr-export/1'), /format "lionctr-export\/1", expected "lionctr-delta\/1"/],
      ['base_version', (m) => (m.base_version = '17a'), /base_version/],
      ['seq', (m) => (m.seq = 0), /seq must be an integer >= 1/],
      ['version', (m) => (m.version = 1700000000500), /version must be/],
      ['prev_sha256', (m) => (m.prev_sha256 = 'ABC'), /prev_sha256/],
      ['step', (m) => delete m.step, /step and examples/],
      ['rows', (m) => (m.rows = { C1: -1 }), /rows must map slots to counts/],
      ['tombstones', (m) => (m.tombstones = []), /tombstones/],
      ['files', (m) => (m.files = { '../../LATEST': H }), /leaves the delta directory/],
      ['checksum', (m) => (m.files = { 'dense/weights.bin': 'x' }), /checksum of dense\/weights.bin/],
    ];
    for (const [name, spoil, msg] of cases) {
      const m = good() as unknown as Record<string, unknown>;
      spoil(m);
      const e = parseError(m);
      expect(e.code, name).toBe('LIONCTR_BAD_EXPORT');
      expect(e.where, name).toBe('/x/1700000000000/delta-2/manifest.json');
      expect(e.message, name).toMatch(msg);
      expect(e.message, name).toContain('delta-2/manifest.json');
    }
    expect(parseError('{"format": ').message).toMatch(/bad delta manifest: not JSON/);
    expect(parseError('[1]').message).toMatch(/not a JSON object/);
  });
});

describe('checkDeltaChain', () => {
  const prevBytes = Buffer.from('{"format":"lionctr-export/1"}\n');
  const prev = { baseVersion: '1700000000000', nextSeq: 2, version: '1700000000400', manifestBytes: prevBytes };
  const linked = (): DeltaManifest => ({
    ...good(),
    prev_sha256: createHash('sha256').update(prevBytes).digest('hex'),
  });

  it('accepts the next link', () => {
    expect(() => checkDeltaChain(linked(), prev, 'w')).not.toThrow();
  });

  it('names the broken link: base, seq, version, checksum', () => {
    const cases: [Partial<DeltaManifest>, RegExp][] = [
      [{ base_version: '1699999999999' }, /base_version 1699999999999, expected 1700000000000/],
      [{ seq: 3 }, /seq 3, expected 2/],
      [{ version: '1700000000400' }, /version 1700000000400 is not greater than the previous 1700000000400/],
      [{ prev_sha256: H }, /prev_sha256 does not match the manifest of delta-1/],
    ];
    for (const [patch, msg] of cases) {
      expect(() => checkDeltaChain({ ...linked(), ...patch }, prev, 'w')).toThrow(msg);
    }
    const e = (() => {
      try {
        checkDeltaChain({ ...linked(), seq: 1, prev_sha256: H }, { ...prev, nextSeq: 1 }, '/r/b/delta-1');
      } catch (err) {
        return err as LionctrError;
      }
    })();
    expect(e?.code).toBe('LIONCTR_BAD_EXPORT');
    expect(e?.reason).toBe('broken_chain');
    expect(e?.message).toMatch(/manifest of the base \(at \/r\/b\/delta-1\)/);
  });
});

describe('tombstone tables', () => {
  it('round-trip 64-bit ids through an Arrow IPC file', () => {
    const hi = Uint32Array.of(0, 0xffffffff, 0x12345678),
      lo = Uint32Array.of(1, 0xffffffff, 0x9abcdef0);
    const t = arrow.tableFromIPC(arrow.tableToIPC(tombstonesToArrow(hi, lo, 3), 'file'));
    expect([...(t.getChild('id')!.toArray() as BigUint64Array)]).toEqual([
      1n,
      0xffffffffffffffffn,
      0x123456789abcdef0n,
    ]);
    const back = tombstonesFromArrow(t);
    expect([...back.hi]).toEqual([...hi]);
    expect([...back.lo]).toEqual([...lo]);
    expect(() => tombstonesFromArrow(new arrow.Table({ x: arrow.makeVector(Int32Array.of(1)) }))).toThrow(
      /column "id" of uint64/,
    );
  });
});
