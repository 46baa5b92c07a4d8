import * as tf from '@tensorflow/tfjs-core';
import type { FeatureBatch } from '../features/feature-batch.ts';
import type { CtrModel } from '../model/ctr-model.ts';
import { DenseLion } from './optim/dense-lion.ts';
import { DenseAdam, sparseAdamStep, type AdamParams } from './optim/adam.ts';
import type { LionParams } from './optim/lion-config.ts';
import { RowGradients } from './optim/row-gradients.ts';
import { sparseLionStep, type SparseLionGroup, type SparseMode } from './optim/sparse-lion.ts';
import { CONSTANT_LR, lrFunction, lrMultiplier, type LrFunction, type LrSchedule } from './optim/schedule.ts';
import { kernelModule, WasmSparseLion, wasmKernelCovers } from './optim/wasm/sparse-kernel.ts';
import { wasmMemoryRefusal } from '../model/row-store.ts';

/** Optimizer settings of the two groups (config `optim.*`). */
export interface OptimConfig {
  dense: LionParams;
  embedding: LionParams;
  /** Settings of the linear (wide) weights, column 0 of every row. */
  linear: LionParams;
  /** Settings of the global bias (the tower's output bias); defaults to `linear`. */
  bias?: LionParams;
  /** lr schedule applied to every group (default constant). */
  schedule?: LrSchedule;
  /** Clip the dense gradients to this global L2 norm (0 = off). */
  clipGlobalNorm?: number;
  /** Per-slot overrides of the embedding group (lr, betas, weight decay) and the sparse mode. */
  tables?: Record<string, Partial<LionParams> & { mode?: SparseMode }>;
  /** Catch-up of idle embedding rows (see sparse-lion.ts); default lazy. */
  sparseMode?: SparseMode;
  /**
   * Sparse step kernel: `wasm` (default; WebAssembly SIMD, wasm/sparse-kernel.ts) or `js`
   * (sparse-lion.ts). The JS kernel also runs where the wasm one cannot: no WebAssembly
   * SIMD, a table over 4 GiB, or a decayed/exact catch-up under a non-constant lr schedule.
   */
  sparseKernel?: 'wasm' | 'js';
  /**
   * Use AdamW instead of Lion, for comparisons only (same groups, schedule, lazy rows):
   * the groups' lr / betas / weight decay are taken as AdamW's, eps 1e-8.
   */
  adam?: boolean;
}

/** What one step reports: the progressive predictions (made before the update) and the loss. */
export interface StepResult {
  /** [B] predictions made before this step's update (progressive validation). */
  predictions: Float32Array;
  /** Weighted mean logloss of the batch before the update (nats). */
  loss: number;
}

/**
 * One training step of the CTR model: gather rows (admitting new ids), forward the tower,
 * weighted mean logloss, backward to the tower variables and the tower input, dense Lion
 * on the tower, sparse lazy Lion on the touched rows (duplicate ids summed first).
 */
export class TrainStep {
  readonly model: CtrModel;
  readonly denseLion: DenseLion;
  /** The sparse group of the first table (all tables share it unless `tables` overrides). */
  readonly sparse: SparseLionGroup;
  /** One sparse group per table, in model order. */
  readonly sparseGroups: SparseLionGroup[];
  readonly schedule: LrSchedule;
  private readonly adam?: { dense: DenseAdam; emb: AdamParams; lin: AdamParams; second: Float32Array[] };
  private readonly lrAt: LrFunction;
  private readonly constantLr: boolean;
  private readonly rowGrads: RowGradients[];
  /** Per table: its wasm kernel (made on first use), or null for the JS kernel. */
  private readonly kernels: (WasmSparseLion | null)[];
  /** Per table: why the JS kernel runs it although wasm was asked for (null: it does not). */
  private readonly refused: (string | null)[];
  private readonly wasm: boolean;
  private readonly note: (msg: string) => void;
  /** Which kernel runs the sparse steps and why, for the start-up log. */
  readonly kernelNote: string;
  /** Steps taken (also the sparse step number kept per row). */
  step = 0;

  /**
   * @param note called with a line when a table falls back from the wasm kernel to the JS
   *   one (its rows outgrew a WebAssembly memory, or none could be made), for the log.
   */
  constructor(model: CtrModel, optim: OptimConfig, note: (msg: string) => void = () => {}) {
    this.model = model;
    this.note = note;
    // the tower's output bias is the model's global bias, with its own settings
    const vars = model.tower.vars;
    this.denseLion = new DenseLion(vars, vars.map((_, i) => (i === vars.length - 1 ? optim.bias ?? optim.linear : optim.dense)), { clipGlobalNorm: optim.clipGlobalNorm });
    this.sparseGroups = model.tables.map((t) => {
      const { mode, ...over } = optim.tables?.[t.slot] ?? {};
      return { embedding: { ...optim.embedding, ...over }, linear: optim.linear, mode: mode ?? optim.sparseMode ?? 'lazy' };
    });
    this.sparse = this.sparseGroups[0];
    this.schedule = optim.schedule ?? CONSTANT_LR;
    this.lrAt = lrFunction(this.schedule);
    this.constantLr = this.lrAt.constantFrom === 0;
    this.rowGrads = model.tables.map((t) => new RowGradients(t.width));
    this.kernels = model.tables.map(() => null);
    this.refused = model.tables.map(() => null);
    const want = optim.sparseKernel ?? 'wasm';
    this.wasm = want === 'wasm' && kernelModule() !== null && !optim.adam;
    const uncovered = this.sparseGroups.filter((g) => !wasmKernelCovers(g, this.lrAt)).length;
    const refusal = this.wasm ? wasmMemoryRefusal() : null;
    this.kernelNote = optim.adam ? 'sparse step: AdamW (JS) for comparison'
      : want === 'js' ? 'sparse step kernel: js (optim.sparseKernel=js)'
      : !this.wasm ? 'sparse step kernel: js (this runtime cannot compile the WebAssembly SIMD kernel)'
      : refusal ? `sparse step kernel: js, although optim.sparseKernel=wasm: ${refusal}`
      : uncovered > 0 ? `sparse step kernel: wasm (WebAssembly SIMD), js for ${uncovered} of ${model.tables.length} tables (decayed/exact under an lr schedule that never turns constant)`
      : 'sparse step kernel: wasm (WebAssembly SIMD)';
    if (optim.adam) {
      const ap = (p: LionParams): AdamParams => ({ ...p, eps: 1e-8 });
      this.adam = {
        dense: new DenseAdam(vars, vars.map((_, i) => ap(i === vars.length - 1 ? optim.bias ?? optim.linear : optim.dense))),
        emb: ap(optim.embedding), lin: ap(optim.linear), second: model.tables.map(() => new Float32Array(0)),
      };
    }
  }

  /** Trains on one batch; returns the progressive predictions and the batch loss. */
  run(batch: FeatureBatch): StepResult {
    const m = this.model, B = batch.size, I = m.inputDim, F = m.slots.length;
    const lrScale = lrMultiplier(this.schedule, this.step);
    for (const t of m.tables) t.clock = this.step;
    const g = m.gather(batch, true);
    let sumW = 0, sumWY = 0;
    for (let b = 0; b < B; b++) { sumW += batch.weights[b]; sumWY += batch.weights[b] * batch.labels[b]; }
    if (this.step === 0) {
      // start the global bias at the logit of the first batch's CTR: with sign updates of
      // size lr the bias alone could otherwise take thousands of steps to get there
      const ctr = Math.min(1 - 1e-3, Math.max(1e-3, sumWY / sumW));
      const bias = m.tower.vars[m.tower.vars.length - 1];
      tf.tidy(() => bias.assign(tf.fill(bias.shape, Math.log(ctr / (1 - ctr)))));
    }
    let logitsKept: tf.Tensor | undefined;
    let predictions: Float32Array = new Float32Array(0), gx: Float32Array = new Float32Array(0), loss = NaN;
    // Typed arrays are written to outer variables, not returned: tf.tidy walks its
    // result element by element looking for tensors (seconds for a [B, I] array).
    tf.tidy(() => {
      const x = tf.tensor2d(g.x, [B, I]);
      const wide = tf.tensor1d(g.wide);
      const y = tf.tensor1d(batch.labels);
      const w = tf.tensor1d(batch.weights);
      const f = (xIn: tf.Tensor, ...vars: tf.Tensor[]): tf.Scalar => {
        const z = tf.add(m.deepLogits(xIn as tf.Tensor2D, vars), wide);
        logitsKept = tf.keep(z);
        // numerically stable logloss with logits: max(z,0) - z*y + log(1 + exp(-|z|))
        const l = tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
        return tf.div(tf.sum(tf.mul(l, w)), sumW) as tf.Scalar;
      };
      const { value, grads } = tf.valueAndGrads(f)([x, ...m.tower.vars]);
      if (this.adam) this.adam.dense.apply(grads.slice(1), lrScale);
      else this.denseLion.apply(grads.slice(1), lrScale);
      predictions = tf.sigmoid(logitsKept!).dataSync() as Float32Array;
      gx = grads[0].dataSync() as Float32Array;
      loss = value.dataSync()[0];
    });
    logitsKept?.dispose();
    // dLoss/dlogit = w * (p - y) / sum(w): the gradient of each linear weight
    const dlogit = new Float32Array(B);
    for (let b = 0; b < B; b++) dlogit[b] = (batch.weights[b] * (predictions[b] - batch.labels[b])) / sumW;
    for (let f = 0; f < F; f++) {
      const t = m.tables[f], rg = this.rowGrads[f], group = this.sparseGroups[f];
      if (this.wasm && wasmKernelCovers(group, this.lrAt)) {
        let k = this.kernels[f];
        // rows that outgrew their WebAssembly memory went back to an ArrayBuffer: let go of it
        if (k && k.memory !== t.rows.memory) k = this.kernels[f] = null;
        if (!k && this.refused[f] === null) {
          const why = t.rows.useWasmMemory();
          if (why) {
            this.refused[f] = why;
            // one line per reason: a process-wide one (ulimit -v) would otherwise repeat per table
            const same = this.refused.filter((r) => r === why).length;
            if (same === 1) this.note(`sparse step of slot ${t.slot}: js kernel from step ${this.step} on, ${why} (other tables falling back for this reason are not logged)`);
          }
          else k = this.kernels[f] = new WasmSparseLion(t.rows);
        }
        if (k && k.step(g.rowIdx, B, F, f, gx, I, m.columnOffset(f), dlogit, group, this.step, this.lrAt)) continue;
      }
      rg.accumulate(g.rowIdx, B, F, f, gx, I, m.columnOffset(f), dlogit, t.capacity);
      if (this.adam) {
        const a = this.adam;
        if (a.second[f].length < t.capacity * t.width) { const v = new Float32Array(t.capacity * t.width); v.set(a.second[f]); a.second[f] = v; }
        sparseAdamStep(t.rows, a.second[f], rg.rowIds, rg.n, rg.grads, a.emb, a.lin, this.step + 1, lrScale);
      } else sparseLionStep(t.rows, rg.rowIds, rg.n, rg.grads, group, this.step, this.lrAt, this.constantLr);
    }
    this.step++;
    return { predictions, loss };
  }
}
