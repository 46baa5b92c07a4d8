/**
 * The model registry's events (src/serve/model-registry.ts), in one table: name -> payload.
 * The serving metrics (src/metrics/serve-observer.ts) subscribe. Imports nothing of src/serve.
 */
import type { TypedEmitter } from './typed-emitter.ts';

/**
 * Why a delta export was not applied (label `reason` of lionctr_serve_delta_failures_total):
 * gap = delta-<n> absent while a later one exists; checksum = a file missing or not matching
 * the manifest; broken_chain = base_version, seq, version or prev_sha256 do not follow;
 * bad_delta = a manifest or table that cannot be read or does not fit the model; nonfinite =
 * NaN or infinite weights (a diverged model, refused as full exports are).
 */
export const DELTA_FAILURE_REASONS = ['gap', 'checksum', 'broken_chain', 'bad_delta', 'nonfinite'] as const;
/** A reason a delta was not applied. */
export type DeltaFailureReason = (typeof DELTA_FAILURE_REASONS)[number];

/** The events table of a model registry. */
export interface ServeEvents {
  /**
   * A verified version was swapped in and is served now (`previous`: the one it replaced, null at
   * first; `watermarkMs`: the newest event time in it, its manifest's event_time_watermark_ms).
   */
  loaded: { version: string; step: number; previous: string | null; watermarkMs: number | null };
  /** A version failed to load or verify; the one served before (if any) keeps serving. */
  loadFailed: { version: string; message: string };
  /**
   * Delta `seq` of full export `base` was applied: `version` is served now. `seconds`: from the
   * delta found to served (read, verify, wait, apply); `deferredSeconds` of it waiting for
   * chunked requests on the old version; `inPlace` false when it was applied to a copy.
   */
  deltaApplied: {
    base: string;
    seq: number;
    version: string;
    rows: number;
    tombstones: number;
    seconds: number;
    applySeconds: number;
    deferredSeconds: number;
    inPlace: boolean;
  };
  /** Delta `seq` of `base` waits for `chunked` requests scoring over several turns with the served model. */
  deltaDeferred: { base: string; seq: number; chunked: number };
  /** Delta `seq` of `base` was refused: no more deltas of `base` are applied until the next full export. */
  deltaFailed: { base: string; seq: number; reason: DeltaFailureReason; message: string };
  /**
   * Full export `base` was pruned by its writer while its delta `seq` was read (a newer full
   * export superseded it): not a failure; no more deltas of `base`, the next full export is served.
   */
  deltaSuperseded: { base: string; seq: number };
}

/** A model registry event name. */
export type ServeEventName = keyof ServeEvents;

/** An emitter of the registry's events. */
export type ServeEmitter = TypedEmitter<ServeEvents>;
