/**
 * How a batch crosses from the ingest thread to the training thread without a copy on
 * arrival: the RecordBatch as one Arrow IPC stream buffer (written once on the ingest
 * thread; read on the training thread as views into that buffer) and the FeatureBatch's
 * typed arrays, every buffer moved by `postMessage`'s transfer list (the sender's copies
 * are detached, byteLength 0). Also errors as plain data, so that a LionctrError thrown on
 * the ingest thread is thrown again on the training thread with its code, where and reason.
 * @module
 */
import { RecordBatchReader, type RecordBatch, Table, tableToIPC } from 'apache-arrow';
import { isErrorCode, LionctrError } from '../../errors.ts';
import type { FeatureBatch } from '../../features/feature-batch.ts';

/** A batch as it travels: Arrow IPC stream bytes and the features (typed arrays transferred). */
export interface PackedBatch {
  ipc: Uint8Array;
  features: FeatureBatch;
}

/**
 * Packs `rb` and its `features` for postMessage. @returns the message part and the buffers to
 * transfer (each once; a buffer shared by two views is listed once).
 */
export function packBatch(rb: RecordBatch, features: FeatureBatch): { packed: PackedBatch; transfer: ArrayBuffer[] } {
  const ipc = tableToIPC(new Table([rb]), 'stream');
  const buffers = new Set<ArrayBuffer>([ipc.buffer as ArrayBuffer]);
  for (const v of Object.values(features)) if (ArrayBuffer.isView(v)) buffers.add(v.buffer as ArrayBuffer);
  return { packed: { ipc, features }, transfer: [...buffers] };
}

/**
 * The RecordBatch of packed IPC bytes (columns are views into `ipc`, no copy).
 * @throws LionctrError LIONCTR_INTERNAL when the bytes hold no batch (a bug of packBatch).
 */
export function unpackRecordBatch(ipc: Uint8Array): RecordBatch {
  for (const rb of RecordBatchReader.from(ipc)) return rb;
  throw new LionctrError('LIONCTR_INTERNAL', 'an ingest-thread batch arrived without its record batch');
}

/** An error as plain data: name, message, stack, and what lionctr and kafkajs read from errors. */
export interface ErrorData {
  name: string;
  message: string;
  stack?: string;
  code?: unknown;
  where?: string;
  reason?: string;
  retriable?: boolean;
  originalError?: ErrorData;
  cause?: ErrorData;
}

/** `e` as ErrorData (nested `originalError` and `cause` kept, 5 levels at most). */
export function errorToData(e: unknown, depth = 0): ErrorData {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const x = e as Error & Partial<Pick<ErrorData, 'code' | 'where' | 'reason' | 'retriable'>>;
  const d: ErrorData = { name: x.name, message: x.message, stack: x.stack };
  for (const k of ['code', 'where', 'reason', 'retriable'] as const)
    if (x[k] !== undefined) Object.assign(d, { [k]: x[k] });
  const inner = (x as { originalError?: unknown }).originalError;
  if (inner !== undefined && depth < 5) d.originalError = errorToData(inner, depth + 1);
  if (x.cause !== undefined && depth < 5) d.cause = errorToData(x.cause, depth + 1);
  return d;
}

/**
 * The error of ErrorData: a LionctrError (same code, message, where, reason) when `code` is
 * catalogued, else an Error with the same name, message and fields.
 */
export function errorFromData(d: ErrorData): Error {
  const cause = d.cause ? errorFromData(d.cause) : undefined;
  let e: Error;
  if (d.name === 'LionctrError' && isErrorCode(d.code)) {
    e = new LionctrError(d.code, d.message, { cause });
    Object.assign(e, { where: d.where, reason: d.reason });
  } else {
    e = new Error(d.message, { cause });
    e.name = d.name;
    for (const k of ['code', 'where', 'reason', 'retriable'] as const)
      if (d[k] !== undefined) Object.assign(e, { [k]: d[k] });
    if (d.originalError) Object.assign(e, { originalError: errorFromData(d.originalError) });
  }
  if (d.stack) e.stack = d.stack;
  return e;
}
