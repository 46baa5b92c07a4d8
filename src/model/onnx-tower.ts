/**
 * The dense tower as an ONNX model (dense/model.onnx of an export), written with onnx-proto
 * (the ONNX protobuf schema compiled for protobufjs), so that onnxruntime or any ONNX runtime
 * scores the tower without lionctr:
 *
 *   x [batch, I] float32 -> Gemm(W0, b0) -> Relu -> ... -> Gemm(Wout, bout) [batch, 1]
 *     -> Reshape([-1]) -> logit [batch] float32
 *
 * exactly DenseTower.logits (tower.ts): ReLU after every layer but the last, the last
 * layer's bias being the model's global bias. Weights are initializers in raw_data
 * (float32 little-endian), named as the tfjs weights of dense/model.json.
 */
import onnxProto from 'onnx-proto';
import { LionctrError } from '../errors.ts';

const { onnx } = onnxProto;

/** The ONNX operator set the graph is written for (Gemm, Relu, Reshape as of opset 13). */
export const ONNX_OPSET = 13;
/** ONNX IR version of the file (IR 7 is the first to carry opset 13). */
export const ONNX_IR_VERSION = 7;
/** Name of the graph input, [batch, I] float32. */
export const ONNX_INPUT = 'x';
/** Name of the graph output, [batch] float32 (the tower's logit, global bias included). */
export const ONNX_OUTPUT = 'logit';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

/** Little-endian bytes of float32 values (as ONNX raw_data requires on any host). */
function float32Le(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return out;
}

function floatTensor(name: string, dims: number[], values: Float32Array) {
  return onnx.TensorProto.create({ name, dims, dataType: FLOAT, rawData: float32Le(values) });
}

function valueInfo(name: string, dims: (number | string)[]) {
  const dim = dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d }));
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim } } },
  });
}

/**
 * Serializes the tower `inputDim -> hidden... -> 1` with weights `values` (DenseTower's
 * variables in order: W0 [I, H0] row-major, b0 [H0], ..., Wout [Hk, 1], bout [1]) as ONNX bytes.
 * @param names optional initializer names, one per variable (default kernel_l / bias_l).
 * @throws LionctrError LIONCTR_BAD_EXPORT when the values do not match the shapes.
 */
export function towerToOnnx(inputDim: number, hidden: number[], values: Float32Array[], names?: string[]): Uint8Array {
  const sizes = [inputDim, ...hidden, 1];
  const L = sizes.length - 1;
  if (values.length !== 2 * L)
    throw new LionctrError('LIONCTR_BAD_EXPORT', `towerToOnnx: ${values.length} weight arrays for ${2 * L} variables`);
  const initializer = [];
  const node = [];
  let h = ONNX_INPUT;
  for (let l = 0; l < L; l++) {
    const [fanIn, fanOut] = [sizes[l], sizes[l + 1]];
    const [wName, bName] = [names?.[2 * l] ?? `kernel_${l}`, names?.[2 * l + 1] ?? `bias_${l}`];
    const [w, b] = [values[2 * l], values[2 * l + 1]];
    if (w.length !== fanIn * fanOut || b.length !== fanOut)
      throw new LionctrError(
        'LIONCTR_BAD_EXPORT',
        `towerToOnnx: layer ${l} has ${w.length} + ${b.length} values, expected ${fanIn}x${fanOut} + ${fanOut}`,
      );
    initializer.push(floatTensor(wName, [fanIn, fanOut], w), floatTensor(bName, [fanOut], b));
    const out = l + 1 < L ? `gemm_${l}` : 'gemm_out';
    node.push(onnx.NodeProto.create({ name: `dense_${l}`, opType: 'Gemm', input: [h, wName, bName], output: [out] }));
    h = out;
    if (l + 1 < L) {
      node.push(onnx.NodeProto.create({ name: `relu_${l}`, opType: 'Relu', input: [h], output: [`relu_${l}`] }));
      h = `relu_${l}`;
    }
  }
  const shapeBytes = new Uint8Array(8);
  new DataView(shapeBytes.buffer).setBigInt64(0, -1n, true);
  initializer.push(onnx.TensorProto.create({ name: 'flat_shape', dims: [1], dataType: INT64, rawData: shapeBytes }));
  node.push(
    onnx.NodeProto.create({ name: 'flatten', opType: 'Reshape', input: [h, 'flat_shape'], output: [ONNX_OUTPUT] }),
  );
  const graph = onnx.GraphProto.create({
    name: 'lionctr_dense_tower',
    node,
    initializer,
    input: [valueInfo(ONNX_INPUT, ['batch', inputDim])],
    output: [valueInfo(ONNX_OUTPUT, ['batch'])],
    docString: 'lionctr dense tower: x [batch, I] -> logit [batch] (global bias included)',
  });
  const model = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'lionctr',
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}
