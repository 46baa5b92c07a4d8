/**
 * The manifest's `featurization`: the instance featurization of featurization-spec.ts plus
 * how the model turns features into a prediction, read off the CtrModel itself (slot order,
 * embedding dims, the tower input's column layout, the FM switch) and the ONNX writer's
 * constants, so that the description cannot drift from the code it describes.
 */
import { describeFeaturization, type FeaturizationSpec } from '../features/featurization-spec.ts';
import type { CtrModel } from './ctr-model.ts';
import { ONNX_INPUT, ONNX_OPSET, ONNX_OUTPUT } from './onnx-tower.ts';

/** Where the tower input's columns come from, in column order. */
export type TowerInputPart =
  | { slot: string; source: 'embedding'; columns: [number, number] }
  | { slot: string; source: 'dense'; column: number };

/**
 * The layout of the trainer's input files (its config's schema.label, schema.time, schema.ignore,
 * schema.weight, source.format, source.csv, source.libsvm.fieldStarts), recorded so that `lionctr
 * eval` reads a file laid out the same way without the train's --config (a setting of its own
 * config wins). JSON data.
 */
export interface InputLayout {
  format: string;
  label: string;
  time: { column: string; format: string };
  ignore: string[];
  /** '' = no weight column. */
  weight: string;
  csv: { header: boolean; columns: string[]; delimiter: string };
  libsvm_field_starts: number[];
}

/** The full `featurization` of an export manifest. */
export interface Featurization extends FeaturizationSpec {
  /** The trainer's input layout; absent in exports written before it was recorded, or by a model without one. */
  input?: InputLayout;
  tables: {
    path: string;
    format: string;
    id: string;
    vector: string;
    unknown_id: string;
    dims: Record<string, number>;
  };
  tower_input: { width: number; dtype: 'float32'; rule: string; layout: TowerInputPart[] };
  tower: {
    onnx: string;
    opset: number;
    input: string;
    input_shape: [string, number];
    output: string;
    output_shape: [string];
    dtype: 'float32';
    graph: string;
    tfjs: string;
  };
  output: {
    logit: string;
    wide: string;
    deep: string;
    fm: string | null;
    /** train.negativeRate r in (0, 1]: negatives of the training log were kept with probability r. */
    negative_rate: number;
    prediction: string;
  };
}

/** Path of an embedding slot's table inside a version directory. */
export const tablePath = (slot: string): string => `embeddings/${slot}.arrow`;
/** Path of the tower's ONNX file inside a version directory. */
export const ONNX_PATH = 'dense/model.onnx';

/**
 * The `featurization` of `model`'s exports (plain JSON data).
 * Pure; throws nothing.
 */
export function describeModelFeaturization(model: CtrModel): Featurization {
  const { numeric } = model.schema;
  const layout: TowerInputPart[] = model.slots.map((slot, f) => ({
    slot,
    source: 'embedding',
    columns: [model.columnOffset(f), model.columnOffset(f) + model.dims[f]],
  }));
  const denseFrom = model.inputDim - numeric.length;
  numeric.forEach((slot, n) => {
    layout.push({ slot, source: 'dense', column: denseFrom + n });
  });
  const fm = model.config.fm
    ? 'fm = 0.5 * sum over d of [(sum over slots f of e_f[d])^2 - sum over slots f of e_f[d]^2], ' +
      'e_f the embedding columns of slot f in the tower input (Rendle 2010, lemma 3.1)'
    : null;
  return {
    ...describeFeaturization(model.schema, model.rules.unknownSlots),
    ...(model.inputLayout ? { input: model.inputLayout } : {}),
    tables: {
      path: tablePath('<slot>'),
      format: 'Arrow IPC file, one per slot in "slots"',
      id: 'column "id", uint64: the feature id (hash.id)',
      vector:
        'column "vector", FixedSizeList<float32>[dim + 1]: [0] the linear (wide) weight, ' +
        '[1 .. dim] the embedding e (dim per slot in "dims"); items float16, or uint16 holding the top ' +
        "16 bits of a float32 (bfloat16), when the manifest's weight_dtype says so",
      unknown_id: 'an id absent from the table has linear weight 0 and embedding all zeros',
      dims: Object.fromEntries(model.slots.map((s, f) => [s, model.dims[f]])),
    },
    tower_input: {
      width: model.inputDim,
      dtype: 'float32',
      rule:
        "parts in column order: an embedding part fills columns [from, to) with its slot's embedding e, " +
        "a dense part fills one column with its slot's numeric.dense input",
      layout,
    },
    tower: {
      onnx: ONNX_PATH,
      opset: ONNX_OPSET,
      input: ONNX_INPUT,
      input_shape: ['batch', model.inputDim],
      output: ONNX_OUTPUT,
      output_shape: ['batch'],
      dtype: 'float32',
      graph: `Gemm -> Relu per hidden layer (${model.config.hidden.join(', ') || 'none'}), Gemm to 1, Reshape [batch]`,
      tfjs: 'dense/model.json + dense/weights.bin: the same weights, float32 little-endian, in model.json order',
    },
    output: {
      logit: fm ? 'wide + deep + fm' : 'wide + deep',
      wide: "sum over slots of vector[0] of the row of the slot's id (0 for an unknown id)",
      deep: `the tower's ${ONNX_OUTPUT} on the tower input: ReLU MLP, the last layer's bias is the global bias`,
      fm,
      negative_rate: model.rules.negativeRate,
      prediction:
        model.rules.negativeRate === 1
          ? 'sigmoid(logit) = 1 / (1 + exp(-logit))'
          : 'q / (q + (1 - q) / negative_rate) with q = sigmoid(logit) = 1 / (1 + exp(-logit)), in float64: ' +
            'the model was trained on a log whose negatives were kept with probability negative_rate, and this ' +
            'recalibrates q to the full log (equivalently sigmoid(logit + ln(negative_rate)))',
    },
  };
}
