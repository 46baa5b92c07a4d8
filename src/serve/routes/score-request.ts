/**
 * What the scoring routes (predict, classify, regress) share, in TF Serving's order of checks
 * (http_rest_api_handler.cc: body JSON, signature_name's type, the servable, the signature, the
 * rows): the version is held from lookup to the last chunk scored and named in the answer.
 * A predict body in the common row form takes the fast path (json-fast.ts: no JSON.parse); one
 * it does not take goes the slow path, with the same answers.
 */
import type { FeatureBatch } from '../../features/feature-batch.ts';
import type { UnknownSlotPolicy } from '../../features/unknown-slots.ts';
import { servingRulesOf } from '../../model/serving-rules.ts';
import { type JsonDoc, parseJsonBody, type SlotKinds, signatureName, type UnknownSlotSink } from '../json-body.ts';
import { featurizeScan, scanInstances } from '../json-fast.ts';
import type { Rows } from '../json-tensor.ts';
import { scoreBatch } from '../scoring.ts';
import type { ModelRoute } from '../tfs-paths.ts';
import { type ApiContext, kindsOf, type SetVersion } from './context.ts';
import { acquireModel } from './model-spec.ts';

/** How the fast path's rows are named: as the slow path names `instances` rows. */
const FAST_ROWS: Rows = { format: 'row', rows: [], where: (i) => `instances[${i}]` };

/**
 * Parses `body` (scanInstances first when `fast`), holds the version `route` names (released
 * when scoring ends), names it with `setVersion`, checks the signature with `checkSignature`,
 * reads the rows with `read` and scores them (counted in lionctr_serve_instances_per_request).
 * Keys that are not slots follow serve.unknownSlots, else the model's own policy (its manifest's
 * `featurization.unknown_slots`): `reject` refuses the request (400 naming the key), `ignore`
 * drops them, counted in lionctr_serve_unknown_slots_total.
 * @param fast try the fast path (predict: a body of the form scanInstances takes has no
 *   signature_name, so its signature is '', and its rows are `instances` rows).
 * @returns the rows read (FAST_ROWS's format and names, with no rows, from the fast path) and
 *   their click probabilities [n].
 * @throws TfsError / LionctrError (4xx) for a bad request, 500 for a non-finite score.
 */
export async function scoreRequest(
  ctx: ApiContext,
  route: ModelRoute,
  body: string | undefined,
  setVersion: SetVersion,
  checkSignature: (name: string) => void,
  read: (doc: JsonDoc, kinds: SlotKinds, unknown?: UnknownSlotSink) => Rows,
  fast = false,
): Promise<{ rows: Rows; scores: number[] }> {
  // a scan is valid until the next one: it is used below before any await
  const scan = fast ? scanInstances(body) : undefined;
  ctx.guardBody?.(body ?? '', scan);
  let doc: JsonDoc | undefined,
    signature = '';
  if (!scan) {
    doc = parseJsonBody(body);
    signature = signatureName(doc);
  }
  const held = acquireModel(ctx.registry, ctx.modelName, route);
  try {
    setVersion(held.version);
    checkSignature(signature);
    const { featurizer } = held.value;
    let batch: FeatureBatch | undefined = scan && featurizeScan(scan, body as string, featurizer);
    let rows = FAST_ROWS;
    if (!batch) {
      doc ??= parseJsonBody(body);
      rows = read(doc, kindsOf(featurizer), unknownSinkOf(ctx, servingRulesOf(held.value.manifest).unknownSlots));
      batch = featurizer.fromInstances(rows.rows);
    }
    const scores = await scoreBatch(held.value, batch, rows.where, ctx.yieldTurn);
    ctx.metrics.serveInstances.observe(scores.length);
    return { rows, scores };
  } finally {
    held.release();
  }
}

/** The sink of unknown keys under the policy in force (ctx's override, else the model's): none under reject. */
function unknownSinkOf(ctx: ApiContext, model: UnknownSlotPolicy): UnknownSlotSink | undefined {
  if ((ctx.unknownSlots ?? model) === 'reject') return undefined;
  return { drop: (_key, n) => ctx.metrics.serveUnknownSlots.inc(n) };
}
