/**
 * The model registry's events (src/serve/model-registry.ts), in one table: name -> payload.
 * The serving metrics (src/metrics/serve-observer.ts) subscribe. Imports nothing of src/serve.
 */
import type { TypedEmitter } from './typed-emitter.ts';

/** The events table of a model registry. */
export interface ServeEvents {
  /** A verified version was swapped in and is served now (`previous`: the one it replaced, null at first). */
  loaded: { version: string; step: number; previous: string | null };
  /** A version failed to load or verify; the one served before (if any) keeps serving. */
  loadFailed: { version: string; message: string };
}

/** A model registry event name. */
export type ServeEventName = keyof ServeEvents;

/** An emitter of the registry's events. */
export type ServeEmitter = TypedEmitter<ServeEvents>;
