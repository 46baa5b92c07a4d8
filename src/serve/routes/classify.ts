/**
 * POST /v1/models/<name>[/versions/<v>|/labels/<l>]:classify and :regress (TF Serving's
 * g3doc/api_rest.md "Classify and Regress API"): {"examples": [{slot: value}, ...],
 * "context"?: {slot: value}} -> classify {"results": [[["", p]], ...]} (one class per example,
 * no label, score p) and regress {"results": [p, ...]} (the key is "results" as
 * json_tensor.cc kClassifyRegressResponseKey writes it; the doc says "result").
 */
import { checkExampleSignature } from '../json-body.ts';
import { exampleRows } from '../json-examples.ts';
import type { ModelRoute } from '../tfs-paths.ts';
import type { ApiContext, SetVersion } from './context.ts';
import { scoreRequest } from './score-request.ts';

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
  const { scores } = await scoreRequest(ctx, route, body, setVersion, checkExampleSignature, exampleRows);
  return kind === 'classify' ? { results: scores.map((x) => [['', x]]) } : { results: scores };
}
