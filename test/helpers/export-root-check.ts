/**
 * What an exports root must hold after its writer was killed (test/integration/export-kill.test.ts):
 * under a version name only complete full exports that loadExport accepts; in each of them only
 * its own files, complete deltas `delta-<n>` that read back whole and chain on it in order
 * (DeltaChain, src/serve/delta-reader.ts) and deltas being written (`.tmp-delta-<n>`); anything
 * else half-written only under `.tmp-*`, half-deleted only under `.del-*`, written but not yet
 * published only under `.candidate-*` (serving ignores all three). And the model a
 * server must serve then: the LATEST base with its deltas applied.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { CtrModel } from '../../src/model/ctr-model.ts';
import { DELTA_TMP_PREFIX, parseDeltaDirName } from '../../src/model/delta-format.ts';
import { loadExport, readLatest } from '../../src/model/export-reader.ts';
import { applyDeltaInPlace } from '../../src/serve/delta-applier.ts';
import { DeltaChain } from '../../src/serve/delta-reader.ts';

/** What a root held. */
export interface RootState {
  versions: string[];
  /** `.tmp-*` entries of the root (a full export being written). */
  tmps: number;
  /** `.candidate-*` entries (a complete full export not yet published: killed between the two renames). */
  candidates: number;
  /** `<version>/.tmp-delta-<n>` paths (a delta being written). */
  deltaTmps: string[];
  dels: string[];
  latest: string | null;
  /** Versions of the complete deltas, by base. */
  deltas: Map<string, string[]>;
  /** The version a server of the root must end up serving: LATEST's last delta, else LATEST. */
  expected: string | null;
  /** LATEST's base with its deltas applied (the caller disposes it); null without LATEST. */
  model: CtrModel | null;
}

const BASE_ENTRIES = ['manifest.json', 'dense', 'embeddings'];

/**
 * Checks `root` (see the module doc) and returns what it holds. Throws (an expect failure or
 * the reader's LionctrError) on an unexpected entry, a version that does not load, or a delta
 * that is partial, corrupt, out of order or does not chain.
 */
export async function checkRoot(root: string): Promise<RootState> {
  const s: RootState = {
    versions: [],
    tmps: 0,
    candidates: 0,
    deltaTmps: [],
    dels: [],
    latest: null,
    deltas: new Map(),
    expected: null,
    model: null,
  };
  for (const e of await readdir(root)) {
    if (/^\d+$/.test(e)) s.versions.push(e);
    else if (e.startsWith('.tmp-')) s.tmps++;
    else if (e.startsWith('.candidate-')) s.candidates++;
    else if (e.startsWith('.del-')) s.dels.push(e);
    else expect(['LATEST', '.LATEST.tmp'], `unexpected entry ${e} in the exports root`).toContain(e);
  }
  s.latest = await readLatest(root);
  if (s.latest !== null) expect(s.versions).toContain(s.latest);
  for (const v of s.versions) {
    const dir = join(root, v);
    let complete = 0;
    for (const e of await readdir(dir)) {
      if (e.startsWith(DELTA_TMP_PREFIX)) s.deltaTmps.push(`${v}/${e}`);
      else if (parseDeltaDirName(e) !== null) complete++;
      else expect(BASE_ENTRIES, `unexpected entry ${e} in export ${v}`).toContain(e);
    }
    const { model } = await loadExport(dir); // throws on a partial version
    const chain = new DeltaChain(v, dir);
    const versions: string[] = [];
    // every delta-<n> on disk reads back whole and chains (throws on a partial, corrupt or unchained one)
    for (let d = await chain.next(model); d; d = await chain.next(model)) {
      applyDeltaInPlace(model, d);
      chain.advance(d);
      versions.push(d.manifest.version);
    }
    expect(versions.length, `deltas of ${v} read back in order`).toBe(complete);
    s.deltas.set(v, versions);
    if (v === s.latest) {
      s.model = model;
      s.expected = chain.version;
    } else model.dispose();
  }
  return s;
}

/**
 * Largest difference between the rows and tower of `served` and `want`, by row id; Infinity when
 * a row of one is missing from the other.
 */
export async function modelDifference(served: CtrModel, want: CtrModel): Promise<number> {
  let worst = 0;
  for (const [f, t] of want.tables.entries()) {
    const s = served.tables[f];
    if (s.size !== t.size) return Number.POSITIVE_INFINITY;
    for (let r = 0; r < t.size; r++) {
      const q = s.find(t.idHi(r), t.idLo(r));
      if (q < 0) return Number.POSITIVE_INFINITY;
      const a = t.rows.getWeights(r),
        b = s.rows.getWeights(q);
      for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j] - b[j]));
    }
  }
  for (const [i, v] of want.tower.vars.entries()) {
    const a = (await v.data()) as Float32Array,
      b = (await served.tower.vars[i].data()) as Float32Array;
    for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j] - b[j]));
  }
  return worst;
}
