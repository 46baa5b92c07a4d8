/**
 * GET /v1/models/<name>[/versions/<v>|/labels/<l>] (TF Serving's g3doc/api_rest.md "Model
 * status API"): exactly a GetModelStatusResponse (apis/get_model_status.proto) as protobuf's
 * JSON printer writes it: versions as int64 strings, newest first (ServableStateMonitor's
 * VersionMap is ordered by std::greater), every loaded version AVAILABLE with status OK.
 */
import type { ModelRoute } from '../tfs-paths.ts';
import type { ApiContext } from './context.ts';
import { statusVersions } from './model-spec.ts';

/** The GetModelStatusResponse JSON. @throws TfsError 404 before the first export, for an unknown model or version. */
export function status(ctx: ApiContext, route: ModelRoute): unknown {
  return {
    model_version_status: statusVersions(ctx.registry, ctx.modelName, route).map((m) => ({
      version: BigInt(m.version).toString(),
      state: 'AVAILABLE',
      status: { error_code: 'OK', error_message: '' },
    })),
  };
}
