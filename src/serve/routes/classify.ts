/**
 * POST /v1/models/<name>[/versions/<v>|/labels/<l>]:classify and :regress (TF Serving's
 * g3doc/api_rest.md "Classify and Regress API"): {"examples": [{slot: value}, ...],
 * "context"?: {slot: value}} -> classify {"results": [[["", p]], ...]} (one class per example,
 * no label, score p) and regress {"results": [p, ...]} (the key is "results" as
 * json_tensor.cc kClassifyRegressResponseKey writes it; the doc says "result").
 */
import { checkExampleSignature, parseJsonBody, signatureName } from '../json-body.ts';
import { exampleRows } from '../json-examples.ts';
import { scoreRows } from '../scoring.ts';
import type { ModelRoute } from '../tfs-paths.ts';
import { type ApiContext, kindsOf, type SetVersion } from './context.ts';
import { acquireModel } from './model-spec.ts';

/**
 * Answers a classify or regress request. TF Serving checks the examples before it looks the
 * servable up; lionctr looks it up first, as it needs the model's slots to check them.
 * @throws TfsError / LionctrError (4xx) for a bad request, 500 for a non-finite score.
 */
export async function classifyOrRegress(
  ctx: ApiContext,
  kind: 'classify' | 'regress',
  route: ModelRoute,
  body: string | undefined,
  setVersion: SetVersion,
): Promise<unknown> {
  const doc = parseJsonBody(body);
  const signature = signatureName(doc);
  const held = acquireModel(ctx.registry, ctx.modelName, route);
  try {
    setVersion(held.version);
    checkExampleSignature(signature);
    const { rows, where } = exampleRows(doc, kindsOf(held.value.featurizer));
    const p = await scoreRows(held.value, rows, where, ctx.yieldTurn);
    ctx.metrics.serveInstances.observe(p.length);
    return kind === 'classify' ? { results: p.map((x) => [['', x]]) } : { results: p };
  } finally {
    held.release();
  }
}
