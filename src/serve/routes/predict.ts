/**
 * POST /v1/models/<name>[/versions/<v>|/labels/<l>]:predict (TF Serving's g3doc/api_rest.md
 * "Predict API"): {"instances": [{slot: value}, ...]} -> {"predictions": [p, ...]} and
 * {"inputs": {slot: [values...]}} -> {"outputs": [p, ...]}, p the click probability. The
 * version that scored is named by the x-lionctr-model-version header (the body is TF
 * Serving's exactly).
 */
import { checkPredictSignature } from '../json-body.ts';
import { type JsonText, numbersUnder } from '../json-text.ts';
import { predictRows } from '../json-tensor.ts';
import type { ModelRoute } from '../tfs-paths.ts';
import type { ApiContext, SetVersion } from './context.ts';
import { scoreRequest } from './score-request.ts';

/**
 * Answers a predict request (its JSON text: {"predictions": [...]} or {"outputs": [...]}), in TF
 * Serving's order of checks (http_rest_api_handler.cc ProcessPredictRequest: body JSON,
 * signature_name's type, the servable, the signature, the inputs). The version is held from
 * lookup to the last chunk scored.
 * @throws TfsError / LionctrError (4xx) for a bad request, 500 for a non-finite score.
 */
export async function predict(
  ctx: ApiContext,
  route: ModelRoute,
  body: string | undefined,
  setVersion: SetVersion,
): Promise<JsonText> {
  const { rows, scores } = await scoreRequest(ctx, route, body, setVersion, checkPredictSignature, predictRows, true);
  return numbersUnder(rows.format === 'row' ? 'predictions' : 'outputs', scores);
}
