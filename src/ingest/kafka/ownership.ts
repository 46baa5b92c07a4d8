/**
 * Partition hand-over between trainers of one consumer group, without a revoke callback
 * (kafkajs has none): every offset a trainer commits carries metadata naming its owner and
 * whether it still holds the partition (`held`) or gave it up after a final checkpoint
 * (`released`). A trainer that gets a partition waits until its previous owner, if still a
 * live member of the group, has released it; then it starts at the largest of the committed
 * offset, its own checkpoint's offset and the offset it had trained to in this process.
 * So a record is trained by exactly one model of the group, also across rebalances.
 */

/** Commit metadata of a partition. */
export interface OwnerMark {
  owner: string;
  state: 'held' | 'released';
}

/** Encodes commit metadata. */
export const encodeMark = (m: OwnerMark): string => JSON.stringify({ lionctr: 1, owner: m.owner, state: m.state });

/** Decodes commit metadata; null for none or metadata not written by lionctr. */
export function decodeMark(metadata: string | null | undefined): OwnerMark | null {
  if (!metadata) return null;
  try {
    const o = JSON.parse(metadata) as { lionctr?: number; owner?: unknown; state?: unknown };
    if (o.lionctr !== 1 || typeof o.owner !== 'string' || (o.state !== 'held' && o.state !== 'released')) return null;
    return { owner: o.owner, state: o.state };
  } catch {
    return null;
  }
}

/** What a trainer must do with a partition it was just given, from the committed mark. */
export function handOver(mark: OwnerMark | null, me: string, liveMembers: ReadonlySet<string>): 'start' | 'wait' {
  if (!mark || mark.state === 'released' || mark.owner === me || !liveMembers.has(mark.owner)) return 'start';
  return 'wait';
}

/**
 * Start offset of a partition: the largest known position (committed offset, checkpoint
 * offset, offset trained to in this process), or null when none is known (then the
 * consumer's own reset policy decides). Offsets are next-to-read positions.
 */
export function startOffset(...known: (number | null | undefined)[]): number | null {
  let best: number | null = null;
  for (const k of known) if (k !== null && k !== undefined && k >= 0 && (best === null || k > best)) best = k;
  return best;
}
