/**
 * What the scoring routes (predict, classify, regress) share, in TF Serving's order of checks
 * (http_rest_api_handler.cc: body JSON, signature_name's type, the servable, the signature, the
 * rows): the version is held from lookup to the last chunk scored and named in the answer.
 */
import { type JsonDoc, parseJsonBody, type SlotKinds, signatureName } from '../json-body.ts';
import type { Rows } from '../json-tensor.ts';
import { scoreRows } from '../scoring.ts';
import type { ModelRoute } from '../tfs-paths.ts';
import { type ApiContext, kindsOf, type SetVersion } from './context.ts';
import { acquireModel } from './model-spec.ts';

/**
 * Parses `body`, holds the version `route` names (released when scoring ends), names it with
 * `setVersion`, checks the signature with `checkSignature`, reads the rows with `read` and
 * scores them (counted in lionctr_serve_instances_per_request).
 * @returns the rows read and their click probabilities [n].
 * @throws TfsError / LionctrError (4xx) for a bad request, 500 for a non-finite score.
 */
export async function scoreRequest(
  ctx: ApiContext,
  route: ModelRoute,
  body: string | undefined,
  setVersion: SetVersion,
  checkSignature: (name: string) => void,
  read: (doc: JsonDoc, kinds: SlotKinds) => Rows,
): Promise<{ rows: Rows; scores: number[] }> {
  const doc = parseJsonBody(body);
  const signature = signatureName(doc);
  const held = acquireModel(ctx.registry, ctx.modelName, route);
  try {
    setVersion(held.version);
    checkSignature(signature);
    const rows = read(doc, kindsOf(held.value.featurizer));
    const scores = await scoreRows(held.value, rows.rows, rows.where, ctx.yieldTurn);
    ctx.metrics.serveInstances.observe(scores.length);
    return { rows, scores };
  } finally {
    held.release();
  }
}
