/**
 * GET /v1/models/<name>[/versions/<v>|/labels/<l>]/metadata (TF Serving's g3doc/api_rest.md
 * "Model Metadata API"): a GetModelMetadataResponse shaped as http_rest_api_util.cc
 * ToJsonString writes it (preserve_proto_field_names, fields without presence printed):
 * model_spec, and metadata.signature_def.signature_def.serving_default naming one input per
 * slot (DT_STRING categorical, DT_FLOAT numeric; shape [-1]) and the output "predictions"
 * (DT_FLOAT [-1], the click probability).
 */
import { dtypeOf } from '../json-body.ts';
import type { ModelRoute } from '../tfs-paths.ts';
import { type ApiContext, kindsOf, type SetVersion } from './context.ts';
import { acquireModel } from './model-spec.ts';

/** A TensorInfo of shape [batch] (protobuf JSON of tensorflow/core/protobuf/meta_graph.proto). */
const tensorInfo = (dtype: string, name: string) => ({
  dtype,
  tensor_shape: { dim: [{ size: '-1', name: '' }], unknown_rank: false },
  name,
});

/** The metadata JSON of the version a request names. @throws TfsError 404/400 as predict's lookup. */
export function metadata(ctx: ApiContext, route: ModelRoute, setVersion: SetVersion): unknown {
  const held = acquireModel(ctx.registry, ctx.modelName, route);
  try {
    setVersion(held.version);
    const inputs = Object.fromEntries(
      [...kindsOf(held.value.featurizer)].map(([slot, kind]) => [slot, tensorInfo(dtypeOf(kind).enum, `${slot}:0`)]),
    );
    return {
      model_spec: { name: route.name, signature_name: '', version: BigInt(held.version).toString() },
      metadata: {
        signature_def: {
          signature_def: {
            serving_default: {
              inputs,
              outputs: { predictions: tensorInfo('DT_FLOAT', 'predictions:0') },
              method_name: 'tensorflow/serving/predict',
              defaults: {},
            },
          },
        },
      },
    };
  } finally {
    held.release();
  }
}
