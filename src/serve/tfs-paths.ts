/**
 * The URL grammar of TF Serving's REST API (tensorflow_serving/model_servers/
 * http_rest_api_util.cc, ParseModelInfo) and lionctr's extras path, with TF Serving's error
 * messages. Paths are matched case-insensitively as TF Serving's RE2 `(?i)` regexes match
 * them, but the verb and `metadata` are then compared as written, as TF Serving does
 * (`:PREDICT` is a malformed request there; `/METADATA` falls through to the status API).
 */
import type { ServeRoute } from '../metrics/catalogue.ts';
import { TfsError, invalidArgument } from './tfs-error.ts';

export type { ServeRoute };

/** Which version a request names: none (the default, "Latest"), a number, or a label. */
export interface VersionChoice {
  /** Canonical decimal version (leading zeros removed), when `/versions/<v>` was given. */
  version?: string;
  /** URL-decoded label, when `/labels/<l>` was given. */
  label?: string;
}

/** A model and the version a request names. */
export type ModelRoute = { name: string } & VersionChoice;

/** A parsed API request: what it asks of which model. */
export type ApiRoute =
  | ({ kind: 'predict' | 'classify' | 'regress' | 'status' | 'metadata' } & ModelRoute)
  | { kind: 'extras'; name: string };

// http_rest_api_util.cc l. 28-31 (kPredictionApiGegex [sic], kModelStatusApiRegex), RE2 (?i) as JS /i; the version
// as [^/:]+ where TF Serving has \d+: lionctr decodes its %-escapes, as the name's and the label's, then wants digits
// (TF Serving matches \d+ on the raw path, so /versions/%31 is a malformed request there while /models/%63tr is ctr)
const PREDICTION_API =
  /^\/v1\/models\/([^/:]+)(?:(?:\/versions\/([^/:]+))|(?:\/labels\/([^/:]+)))?:(classify|regress|predict)$/i;
const MODEL_STATUS_API =
  /^\/v1\/models(?:\/([^/:]+))?(?:(?:\/versions\/([^/:]+))|(?:\/labels\/([^/:]+)))?(?:\/(metadata))?$/i;
/** A version segment, once decoded. */
const DIGITS = /^\d+$/;
/** lionctr's own status page (step, created_at, metrics at export, load errors). */
const EXTRAS_API = /^\/v1\/lionctr\/models\/([^/:]+)$/i;
/** TF Serving's REST handler takes every path under /v1/ (http_rest_api_util.h kHTTPRestApiHandlerPathRegex). */
export const API_PREFIX = /^\/v1\//i;

/** Largest int64, for TF Serving's "Failed to convert version" check (absl::SimpleAtoi). */
const INT64_MAX = 2n ** 63n - 1n;

/** curl_easy_unescape as TF Serving's DecodeArg uses it: %XX decoded; a bad escape is left as written. */
function decodeArg(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
  }
}

/**
 * The version and label captures, decoded (the version too, see PREDICTION_API) and checked as
 * ParseModelInfo does.
 * @returns undefined when the decoded version is not digits (a malformed request, as TF Serving's regex answers).
 */
function versionChoice(raw: string | undefined, label: string | undefined): VersionChoice | undefined {
  const version = raw === undefined ? undefined : decodeArg(raw);
  if (version !== undefined && !DIGITS.test(version)) return undefined;
  if (version !== undefined && BigInt(version) > INT64_MAX)
    // http_rest_api_util.cc ParseModelInfo: "Failed to convert version: ", model_version_str, " to numeric."
    throw invalidArgument(`Failed to convert version: ${version} to numeric.`, 'url');
  return {
    ...(version !== undefined ? { version: BigInt(version).toString() } : {}),
    ...(label !== undefined ? { label: decodeArg(label) } : {}),
  };
}

/** `path` without its query string. */
export const pathOf = (url: string): string => {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
};

/** The route label of a request for the metrics, whatever its method, without throwing. */
export function routeLabel(path: string): ServeRoute {
  const digits = (v: string | undefined) => v === undefined || DIGITS.test(decodeArg(v));
  const p = PREDICTION_API.exec(path);
  if (p && digits(p[2])) return p[4].toLowerCase() as ServeRoute;
  const s = MODEL_STATUS_API.exec(path);
  if (s && digits(s[2])) return s[4] === 'metadata' ? 'metadata' : 'status';
  return EXTRAS_API.test(path) ? 'extras' : 'unknown';
}

/**
 * Parses an API request (a path under /v1/) as TF Serving's ParseModelInfo and
 * HttpRestApiHandler::ProcessRequest do.
 * @throws TfsError 400 `Malformed request: <METHOD> <path>` when the path fits no API;
 *   405 (lionctr's; TF Serving answers that 400) when it fits an API of another method
 *   (HEAD is taken where GET is, as HTTP wants);
 *   400 `Missing model name in request.`, `Failed to convert version: ...`.
 */
export function parseApiPath(method: string, path: string): ApiRoute {
  // http_rest_api_handler.cc ProcessRequest: status = InvalidArgument("Malformed request: ", method, " ", path)
  const malformed = `Malformed request: ${method} ${path}`;
  // lionctr answers 405 (with Allow) where TF Serving answers 400; the message is TF Serving's
  const wrongMethod = (allow: string) => new TfsError('METHOD_NOT_ALLOWED', malformed, 'method', allow);
  const p = PREDICTION_API.exec(path);
  // a version that is not digits once decoded: the path fits no API (as TF Serving's \d+ does not match)
  const pv = p && versionChoice(p[2], p[3]);
  if (p && pv) {
    if (method !== 'POST') throw wrongMethod('POST');
    const verb = p[4];
    if (verb !== 'predict' && verb !== 'classify' && verb !== 'regress') throw invalidArgument(malformed, 'url');
    return { kind: verb, name: decodeArg(p[1]), ...pv };
  }
  const s = MODEL_STATUS_API.exec(path);
  const sv = s && versionChoice(s[2], s[3]);
  if (s && sv) {
    if (method !== 'GET' && method !== 'HEAD') throw wrongMethod('GET, HEAD');
    // http_rest_api_handler.cc ProcessModelStatusRequest / ProcessModelMetadataRequest
    if (s[1] === undefined) throw invalidArgument('Missing model name in request.', 'url');
    const kind = s[4] === 'metadata' ? 'metadata' : 'status';
    return { kind, name: decodeArg(s[1]), ...sv };
  }
  const x = EXTRAS_API.exec(path);
  if (x) {
    if (method !== 'GET' && method !== 'HEAD') throw wrongMethod('GET, HEAD');
    return { kind: 'extras', name: decodeArg(x[1]) };
  }
  throw invalidArgument(malformed, 'url');
}

/** Most (method, path) pairs cachedApiPath keeps; the cache is emptied when it is full (varied paths). */
const ROUTE_CACHE_MAX = 256;
const routeCache = new Map<string, ApiRoute>();

/**
 * parseApiPath, remembered for the (method, path) pairs that parse (a server sees the same few
 * paths again and again: the regexes, decoding and BigInt checks cost ~2 µs a request, bench/serve-speed.ts
 * at 1 instance). Paths that throw are parsed each time (the same error each time). The route
 * returned is shared: callers must not change it.
 * @throws as parseApiPath.
 */
export function cachedApiPath(method: string, path: string): ApiRoute {
  const key = `${method} ${path}`;
  let r = routeCache.get(key);
  if (r === undefined) {
    r = Object.freeze(parseApiPath(method, path));
    if (routeCache.size >= ROUTE_CACHE_MAX) routeCache.clear();
    routeCache.set(key, r);
  }
  return r;
}
