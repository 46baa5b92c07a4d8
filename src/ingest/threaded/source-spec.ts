/**
 * A source described as plain data (structured-clone safe), so that the ingest thread can
 * open the same Source the training thread would have: the options of one of the three
 * factories (synthetic, file, Kafka) without the logger, which each thread makes its own.
 * @module
 */
import type { Logger } from 'pino';
import { createFileSource, type FileSourceOptions } from '../file-source.ts';
import type { KafkaSourceOptions } from '../kafka/source.ts';
import type { Source } from '../source.ts';
import { createSyntheticSource, type SyntheticSourceOptions } from '../synthetic-source.ts';

/** Which source to open and its factory's options (no functions, no logger). */
export type SourceSpec =
  | { kind: 'synthetic'; options: SyntheticSourceOptions }
  | { kind: 'file'; options: FileSourceOptions }
  | { kind: 'kafka'; options: Omit<KafkaSourceOptions, 'logger'> };

/**
 * Opens the source of `spec` on this thread, logging to `logger` (Kafka's consumer logs).
 * @throws LionctrError as the factory does (LIONCTR_BAD_CONFIG, LIONCTR_BAD_INPUT).
 */
export async function openSourceSpec(spec: SourceSpec, logger: Logger): Promise<Source> {
  if (spec.kind === 'synthetic') return createSyntheticSource(spec.options);
  if (spec.kind === 'file') return createFileSource(spec.options);
  const { createKafkaSource } = await import('../kafka/source.ts');
  return createKafkaSource({ ...spec.options, logger });
}
