/**
 * @module Following the delta chain of the version served by default (issue 11 "Delta
 * exports"): reads each next delta-<n> of the chain, applies it (delta-applier.ts) and has
 * the registry serve it, until none is there or one is refused. Split from model-registry.ts,
 * which owns the state; this module only walks the chain through the registry's `FollowHost`.
 */
import type { Logger } from 'pino';
import type { ServeEmitter } from '../events/serve-events.ts';
import { applyWhenQuiet } from './delta-applier.ts';
import { type DeltaChain, deltaFailureReason, isSuperseded, type ParsedDelta } from './delta-reader.ts';
import type { ServedModel } from './served-model.ts';
import type { VersionSet } from './version-set.ts';

/** What following a chain needs of its registry. */
export interface FollowHost {
  /** The chain of the full export served by default, or undefined. */
  chain(): DeltaChain | undefined;
  /** The version served by default, or undefined. */
  current(): string | undefined;
  readonly loadedSet: VersionSet<ServedModel>;
  readonly pinned: ReadonlySet<string>;
  /** Most milliseconds a delta waits for chunked requests before it is applied to a copy. */
  readonly deferMs: number;
  /** Rows prepared per event-loop turn before an in-place apply. */
  readonly sliceRows: number;
  readonly logger: Logger;
  readonly emitter: ServeEmitter;
  /** Makes a loaded version the default one. */
  swapTo(version: string): void;
  /** Records a failure for /readyz. */
  failed(version: string, message: string): void;
}

/**
 * Applies the deltas of the default version's chain that are there, in order, until none or
 * a refused one (logged once, `deltaFailed`; a base pruned meanwhile is `deltaSuperseded`,
 * logged at info). Never throws.
 */
export async function followDeltas(host: FollowHost): Promise<void> {
  const chain = host.chain();
  while (chain && !chain.failed && chain === host.chain() && host.current() !== undefined) {
    const served = host.loadedSet.peek(host.current() as string) as ServedModel;
    const t0 = performance.now();
    try {
      const d = await chain.next(served.model);
      if (!d || !(await applyDelta(host, chain, d, t0))) return;
    } catch (err) {
      chain.failed = true;
      const seq = chain.nextSeq,
        message = (err as Error).message;
      if (isSuperseded(err)) {
        host.logger.info({ base: chain.base, seq }, `${message}; serving ${host.current()} until the next full export`);
        host.emitter.emit('deltaSuperseded', { base: chain.base, seq });
        return;
      }
      host.failed(`${chain.base}/delta-${seq}`, message);
      host.logger.error(
        { base: chain.base, seq, err: message },
        `delta-${seq} of export ${chain.base} refused: ${message}; no more deltas of ${chain.base} are applied, ` +
          `serving ${host.current()} until the next full export`,
      );
      host.emitter.emit('deltaFailed', { base: chain.base, seq, reason: deltaFailureReason(err), message });
      return;
    }
  }
}

/** Applies a verified delta to the default version (applyWhenQuiet), serves it, logs and emits. */
async function applyDelta(host: FollowHost, chain: DeltaChain, d: ParsedDelta, t0: number): Promise<boolean> {
  const current = () => (chain === host.chain() ? host.current() : undefined);
  const { seq } = d.manifest;
  const onWait = (chunked: number) => {
    host.logger.info({ base: chain.base, seq, chunked }, `delta-${seq} waits for ${chunked} chunked requests`);
    host.emitter.emit('deltaDeferred', { base: chain.base, seq, chunked });
  };
  const r = await applyWhenQuiet(host.loadedSet, current, host.pinned, d, host.deferMs, onWait, host.sliceRows);
  if (!r) return false;
  chain.advance(d);
  host.swapTo(r.next.version);
  const { version } = d.manifest;
  const { rows, removed } = r.counts;
  host.logger.info(
    { base: chain.base, seq, version, rows, removed, inPlace: r.inPlace },
    `delta-${seq} of export ${chain.base} applied: ${rows} rows, ${removed} removed`,
  );
  const seconds = (performance.now() - t0) / 1000;
  host.emitter.emit('deltaApplied', {
    base: chain.base,
    seq,
    version,
    rows,
    tombstones: removed,
    seconds,
    ...r.timing,
  });
  return true;
}
