import * as tf from '@tensorflow/tfjs-core';
import type { FeatureBatch } from '../features/feature-batch.ts';
import { embeddingSlots, slotDims, type FeatureSchema } from '../features/schema.ts';
import type { InputLayout } from './featurization.ts';
import { DEFAULT_SERVING_RULES, type ServingRules } from './serving-rules.ts';
import { LionctrError } from '../errors.ts';
import { AdmissionGate, ADMIT_ALL, type AdmissionConfig } from './admission.ts';
import { EmbeddingTable } from './embedding-table.ts';
import { fillInput } from './row-gather.ts';
import type { GatherBuffers } from './gather-buffers.ts';
import type { RowStore } from './row-store.ts';
import { lookupSlot, type LookupMode } from './slot-lookup.ts';
import { Eviction, NO_EVICTION, type EvictionConfig } from './eviction.ts';
import { NO_BUDGET, RowBudget } from './row-budget.ts';
import type { ServingTower } from './serving-tower.ts';
import { DenseTower } from './tower.ts';

/**
 * Tower input buffers score() keeps for reuse per model, and the largest it keeps (floats: 2 MB,
 * 800 rows of the default tower): at most 8 MB held per loaded model.
 */
const X_POOL_SIZE = 4,
  X_POOL_MAX_FLOATS = 1 << 19;

/** Model shape settings (config `model.*`). */
export interface ModelConfig {
  /** Hidden layer sizes of the tower, e.g. [256, 128]. */
  hidden: number[];
  /** Std of the initial embedding values. */
  initStd: number;
  /** Seed of the tower init. */
  seed: number;
  /**
   * Add the factorization-machine term sum_{i<j} <e_i, e_j> over the slots' embeddings
   * to the logit (DeepFM, Guo et al. 2017, sec. 2.1; Rendle 2010 eq. 1). Needs one
   * embedding dim for every slot. Default false.
   */
  fm?: boolean;
  /** Storage of the embedding rows' optimizer momentum; default float32. */
  momentumDtype?: 'float32' | 'bfloat16';
  /** Feature admission while training (src/model/admission.ts); default off (a row on first sight). */
  admission?: AdmissionConfig;
  /** TTL eviction of rows on last-seen event time (src/model/eviction.ts); default off. */
  eviction?: EvictionConfig;
  /** Bytes of all embedding tables (src/model/row-budget.ts); 0 or absent = no bound. */
  memoryBudgetBytes?: number;
  /** Rows of capacity of any one table; 0 or absent = no bound. */
  maxRowsPerTable?: number;
}

/** Gathered inputs of one batch. */
export interface Gathered {
  /**
   * [B, F] row index of each (example, slot), -1 where the id has no row (unknown when serving,
   * not admitted when training: it reads as a zero row and is not updated).
   */
  rowIdx: Int32Array;
  /** [B, I] tower input: embeddings of all slots (sum of dims) then N dense numerics. */
  x: Float32Array;
  /** [B] sum of the linear weights (row column 0) of the example's features. */
  wide: Float32Array;
}

/**
 * The CTR model (wide & deep, Cheng et al. 2016): logit = sum over slots of the feature's
 * linear weight + MLP(concat(embeddings, dense numerics)); p = sigmoid(logit).
 * One EmbeddingTable per slot; the tower's output bias is the global bias.
 */
export class CtrModel {
  readonly schema: FeatureSchema;
  readonly config: ModelConfig;
  readonly slots: string[];
  readonly dims: number[];
  readonly tables: EmbeddingTable[];
  /** One admission gate per table (its sketch and its admitted/rejected counts). */
  readonly gates: AdmissionGate[];
  /** Last-seen times and TTL sweeps of the tables (inactive unless model.eviction.ttlSeconds > 0). */
  readonly eviction: Eviction;
  /** The memory budget of the tables (inactive unless model.memoryBudgetBytes or maxRowsPerTable > 0). */
  readonly budget: RowBudget;
  readonly tower: DenseTower;
  /** I: tower input width = sum(dims) + N. */
  readonly inputDim: number;
  private readonly colOffset: number[];
  /** The tables' row stores, refreshed by each gather (a table's `rows` may be replaced: clone). */
  private readonly rowStores: RowStore[];
  /** The tower that scores served requests (score()); set by loadExport, freed by dispose(). */
  servingTower: ServingTower | undefined;
  /** Tower inputs score() has done with, for the next requests. */
  private readonly xPool: Float32Array[] = [];
  /**
   * The unknown-slot policy and negative rate exports record (./serving-rules.ts): set from the
   * config by the trainer, from the manifest by loadExport; predict() and score() do not apply them.
   */
  rules: ServingRules = { ...DEFAULT_SERVING_RULES };
  /** The trainer's input layout, recorded in exports (./featurization.ts); set from the config by the trainer. */
  inputLayout: InputLayout | null = null;

  constructor(
    schema: FeatureSchema,
    config: ModelConfig,
    init: { towerValues?: Float32Array[]; trainable?: boolean } = {},
  ) {
    this.schema = schema;
    this.config = config;
    this.slots = embeddingSlots(schema);
    this.dims = slotDims(schema);
    if (config.fm && new Set(this.dims).size > 1)
      throw new LionctrError('LIONCTR_BAD_CONFIG', 'model.fm needs the same embedding dim for every slot', {
        where: 'schema.dims',
      });
    this.tables = this.slots.map(
      (s, f) =>
        new EmbeddingTable(s, this.dims[f], {
          initStd: config.initStd,
          momentumDtype: config.momentumDtype,
          // a table starts at 1024 rows: fewer when a table may not hold that many
          ...(config.maxRowsPerTable ? { initialCapacity: Math.min(1024, config.maxRowsPerTable) } : {}),
        }),
    );
    this.gates = this.slots.map((s) => new AdmissionGate(s, config.admission ?? ADMIT_ALL, config.seed));
    this.eviction = new Eviction(this.tables, config.eviction ?? NO_EVICTION);
    this.budget = new RowBudget(this.tables, this.eviction, this.gates, {
      memoryBudgetBytes: config.memoryBudgetBytes ?? NO_BUDGET.memoryBudgetBytes,
      maxRowsPerTable: config.maxRowsPerTable ?? NO_BUDGET.maxRowsPerTable,
    });
    this.rowStores = this.tables.map((t) => t.rows);
    this.colOffset = [];
    let o = 0;
    for (const d of this.dims) {
      this.colOffset.push(o);
      o += d;
    }
    this.inputDim = o + schema.numeric.length;
    this.tower = new DenseTower(this.inputDim, config.hidden, {
      seed: config.seed,
      values: init.towerValues,
      trainable: init.trainable,
    });
  }

  /**
   * Looks up the rows of a batch and builds the tower input: first each slot's rows over the
   * batch (./slot-lookup.ts), then x one example at a time (./row-gather.ts).
   * @param admit true while training (unknown ids get new rows when their slot's admission gate
   *   lets them; those it refuses read as zero rows, index -1), false when serving (unknown ids
   *   read as zero vectors, linear weight 0).
   * @param xOut where to write x (B * I floats; every one is written); a new array when absent.
   * @param bufs arrays to write rowIdx, x and wide into (the train step's, reused batch after
   *   batch: the result's arrays are then views that the next gather into bufs overwrites).
   */
  gather(batch: FeatureBatch, admit: boolean, xOut?: Float32Array, bufs?: GatherBuffers): Gathered {
    const B = batch.size,
      F = this.slots.length,
      N = this.schema.numeric.length,
      I = this.inputDim;
    const held = bufs?.take(B, F, I);
    const rowIdx = held?.rowIdx ?? new Int32Array(B * F);
    const x = xOut ?? held?.x ?? new Float32Array(B * I);
    const wide = held?.wide ?? new Float32Array(B);
    const ev = admit && this.eviction.active ? this.eviction : null;
    ev?.beforeBatch(batch.eventTimeMs, B);
    if (admit && this.budget.active) this.budget.beforeBatch(B);
    for (let f = 0; f < F; f++) {
      const t = this.tables[f],
        gate = this.gates[f],
        before = t.size;
      const mode: LookupMode = !admit ? 'serve' : gate.active ? 'gated' : 'admit';
      this.budget.refused[f] += lookupSlot(t, gate, mode, batch.idHi, batch.idLo, F, f, B, rowIdx);
      if (admit) gate.admitted += t.size - before;
      ev?.touch(f, rowIdx, F);
    }
    // the rows after every lookup (admission may have grown a table's arrays)
    fillInput(rowIdx, B, this.stores(), this.dims, batch.dense, N, x, I, wide);
    return { rowIdx, x, wide };
  }

  /** The tables' row stores, in slot order (a table's store object stays the same as it grows). */
  private stores(): RowStore[] {
    const s = this.rowStores;
    for (let f = 0; f < s.length; f++) s[f] = this.tables[f].rows;
    return s;
  }

  /**
   * Deep (+ FM) part of the logit for tower input x [B, I], [B]; the caller adds the
   * linear part. Pass `vars` to differentiate with respect to them. Call inside tf.tidy.
   */
  deepLogits(x: tf.Tensor2D, vars?: tf.Tensor[]): tf.Tensor1D {
    const z = this.tower.logits(x, vars);
    if (!this.config.fm) return z;
    // FM: 0.5 * sum_d[(sum_f e_fd)^2 - sum_f e_fd^2]  (Rendle 2010, lemma 3.1)
    const F = this.slots.length,
      D = this.dims[0];
    const e = tf.reshape(tf.slice(x, [0, 0], [-1, F * D]), [-1, F, D]);
    const sq = tf.square(tf.sum(e, 1));
    const sumSq = tf.sum(tf.square(e), 1);
    return tf.add(z, tf.mul(tf.sum(tf.sub(sq, sumSq), 1), 0.5)) as tf.Tensor1D;
  }

  /** Column offset of slot f's embedding inside the tower input. */
  columnOffset(f: number): number {
    return this.colOffset[f];
  }

  /** Click probabilities [B] for a batch (no admission, no training). */
  predict(batch: FeatureBatch): Float32Array {
    const g = this.gather(batch, false);
    let p: Float32Array = new Float32Array(0);
    tf.tidy(() => {
      // result kept outside: tidy walks returned arrays element by element
      const x = tf.tensor2d(g.x, [batch.size, this.inputDim]);
      const logits = tf.add(this.deepLogits(x), tf.tensor1d(g.wide));
      p = tf.sigmoid(logits).dataSync() as Float32Array;
    });
    return p;
  }

  /**
   * Click probabilities [B] for a served batch: as predict(), with the tower on servingTower
   * (onnxruntime, src/model/serving-tower.ts) when there is one, the linear part, the FM term and
   * the sigmoid in float64 here. Same scores as predict() within 1e-6.
   */
  async score(batch: FeatureBatch): Promise<Float32Array> {
    const tower = this.servingTower;
    if (!tower || tower.kind === 'tfjs') return this.predict(batch);
    const B = batch.size,
      I = this.inputDim;
    // x from a pool: a new ArrayBuffer per request (650 KB at 256 rows) drives V8 to full GCs
    // (external memory), which marked the whole heap every ~0.8 s at 256 instances per request
    const buf = this.xPool.pop() ?? new Float32Array(0);
    const x = buf.length >= B * I ? buf.subarray(0, B * I) : new Float32Array(B * I);
    const g = this.gather(batch, false, x);
    const z = await tower.logits(x, B); // the tower has read x when it answers
    const p = new Float32Array(B);
    const F = this.slots.length,
      D = this.dims[0];
    for (let b = 0; b < B; b++) {
      let logit = z[b] + g.wide[b];
      // FM: 0.5 * sum_d[(sum_f e_fd)^2 - sum_f e_fd^2]  (Rendle 2010, lemma 3.1), as deepLogits
      if (this.config.fm)
        for (let d = 0; d < D; d++) {
          let s = 0,
            sq = 0;
          for (let f = 0; f < F; f++) {
            const e = g.x[b * I + f * D + d];
            s += e;
            sq += e * e;
          }
          logit += 0.5 * (s * s - sq);
        }
      p[b] = 1 / (1 + Math.exp(-logit));
    }
    const back = x.buffer === buf.buffer ? buf : x;
    if (back.length <= X_POOL_MAX_FLOATS && this.xPool.length < X_POOL_SIZE) this.xPool.push(back);
    return p;
  }

  /** Rows held per slot. */
  rowCounts(): Record<string, number> {
    return Object.fromEntries(this.tables.map((t) => [t.slot, t.size]));
  }

  /**
   * Per slot: rows held, bytes allocated (rows, optimizer state, id map, admission sketch,
   * last-seen times), and rows made / lookups refused a row (by the admission gate or a table full
   * at the memory budget) / rows evicted (TTL or budget) while training (totals since the model was made).
   */
  tableStats(): { slot: string; rows: number; bytes: number; admitted: number; rejected: number; evicted: number }[] {
    const ev = this.eviction;
    return this.tables.map((t, f) => {
      const g = this.gates[f];
      const bytes = t.bytes + g.bytes + ev.bytes(f);
      const rejected = g.rejected + this.budget.refused[f];
      return { slot: t.slot, rows: t.size, bytes, admitted: g.admitted, rejected, evicted: ev.evicted[f] };
    });
  }

  /** Frees the tower's tensors and the serving tower (an ONNX session). */
  dispose(): void {
    this.servingTower?.dispose();
    this.servingTower = undefined;
    this.tower.dispose();
  }
}
