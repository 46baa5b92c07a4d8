import { createHash } from 'node:crypto';
import type { TrainState } from '../../src/train/train-state.ts';

/**
 * sha256 over every word of a train state (towers, momentum, row ids and blocks):
 * equal digests = bit-for-bit equal.
 */
export function stateDigest(s: TrainState): string {
  const h = createHash('sha256');
  for (const a of [...s.tower, ...s.towerMomentum, ...s.tables.flatMap((t) => [t.rowHi, t.rowLo, t.blocks])])
    h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return h.digest('hex');
}
