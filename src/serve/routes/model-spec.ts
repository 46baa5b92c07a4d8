/**
 * Which loaded version a request gets (TF Serving's ServerCore::ServableRequestFromModelSpec and
 * GetModelStatusImpl), with TF Serving's messages when there is none: a label resolves through
 * `serve.labels`, a version must be loaded, no version means the default one (LATEST's).
 */
import type { ModelRegistry, ServedModel } from '../model-registry.ts';
import { invalidArgument, notFound } from '../tfs-error.ts';
import type { VersionChoice } from '../tfs-paths.ts';
import type { Handle } from '../version-set.ts';

/**
 * The version a label names; the same TfsError as TF Serving when the model or label is unknown,
 * or the label names a version that is not loaded (TF Serving's label map holds no such label:
 * server_core.cc UpdateModelVersionLabelMap refuses it, "... which is not currently available for
 * inference"; the registry logs it at start).
 */
function labelled(registry: ModelRegistry, modelName: string, name: string, label: string): string {
  const v = name === modelName ? registry.labels.get(label) : undefined;
  // server_core.cc GetModelVersionForLabel: "Unrecognized servable version label: ", label
  if (v === undefined || !registry.isLoaded(v))
    throw invalidArgument(`Unrecognized servable version label: ${label}`, 'url');
  return BigInt(v).toString();
}

/**
 * Holds the version a scoring request names (release it when done).
 * @throws TfsError 404 `Servable not found for request: Latest(<name>)` / `Specific(<name>, <v>)`
 *   (core/basic_manager.cc, core/manager.h DebugString), 400 `Unrecognized servable version label: <l>`.
 */
export function acquireModel(
  registry: ModelRegistry,
  modelName: string,
  spec: { name: string } & VersionChoice,
): Handle<ServedModel> {
  const version = spec.label !== undefined ? labelled(registry, modelName, spec.name, spec.label) : spec.version;
  const h = spec.name === modelName ? registry.acquire(version) : undefined;
  if (h) return h;
  const request = version === undefined ? `Latest(${spec.name})` : `Specific(${spec.name}, ${version})`;
  throw notFound(`Servable not found for request: ${request}`, 'url');
}

/**
 * The loaded versions a status request lists, newest first (GetModelStatusImpl). A label is
 * resolved to its version (TF Serving's status API ignores labels and lists every version).
 * @throws TfsError 404 `Could not find any versions of model <name>` (get_model_status_impl.cc),
 *   `Could not find version <v> of model <name>`; 400 for an unknown label.
 */
export function statusVersions(
  registry: ModelRegistry,
  modelName: string,
  spec: { name: string } & VersionChoice,
): ServedModel[] {
  const version = spec.label !== undefined ? labelled(registry, modelName, spec.name, spec.label) : spec.version;
  const loaded = spec.name === modelName ? registry.loaded() : [];
  if (version === undefined) {
    if (loaded.length === 0) throw notFound(`Could not find any versions of model ${spec.name}`, 'url');
    return loaded;
  }
  const one = loaded.filter((m) => m.version === version);
  if (one.length === 0) throw notFound(`Could not find version ${version} of model ${spec.name}`, 'url');
  return one;
}
