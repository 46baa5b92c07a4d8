/**
 * GET /v1/lionctr/models/<name>: lionctr's own status page, beside TF Serving's status API
 * (which answers GetModelStatusResponse only): per loaded version its step, examples,
 * created_at, metrics at export, load time, requests in flight, and the full export and delta it
 * comes from (base_version, delta_seq: 0 for a full export); the default version, the
 * labels, the version policy and the last load error.
 */
import { LionctrError } from '../../errors.ts';
import type { ApiContext } from './context.ts';

/** The extras JSON. @throws LionctrError 404 for another model name. */
export function extras(ctx: ApiContext, name: string): unknown {
  if (name !== ctx.modelName)
    throw new LionctrError('LIONCTR_NOT_FOUND', `unknown model "${name}" (this server serves "${ctx.modelName}")`, {
      where: 'url',
    });
  const { registry } = ctx;
  const inFlight = registry.inFlight();
  return {
    model_name: ctx.modelName,
    default_version: registry.current()?.version ?? null,
    labels: Object.fromEntries(registry.labels),
    versions: registry.loaded().map((m) => ({
      version: m.version,
      base_version: m.base ?? m.version,
      delta_seq: m.deltaSeq ?? 0,
      step: m.manifest.step,
      examples: m.manifest.examples,
      created_at: m.manifest.created_at,
      loaded_at: m.loadedAt.toISOString(),
      event_time_watermark_ms: m.manifest.event_time_watermark_ms,
      metrics: m.manifest.metrics,
      requests_in_flight: inFlight[m.version] ?? 0,
    })),
    load_error: registry.lastError ?? null,
  };
}
