/**
 * The primary's side of `serve --workers N`'s combined /metrics (src/cli/commands/serve-cluster.ts):
 * it asks every live worker for its registry as JSON over IPC and sums them with its own and with
 * what the workers that exited counted (prom-client AggregatorRegistry.aggregate).
 */
import cluster, { type Worker } from 'node:cluster';
import client from 'prom-client';

/** IPC message types: the primary asks a worker for its registry (REQ), the worker answers it as JSON (RES). */
export const JSON_REQ = 'lionctr:jsonReq';
export const JSON_RES = 'lionctr:jsonRes';
/** A worker that does not answer the primary's JSON request in this long is left out of that sum. */
const JSON_WAIT_MS = 5000;

/** A registry's metrics as prom-client's getMetricsAsJSON gives them. */
export type MetricsJson = client.MetricObjectWithValues<client.MetricValue<string>>[];
type Msg = { type?: string; id?: number; json?: MetricsJson };

/** Metric types whose samples only grow within a process: a dead worker's last values are carried forward. */
const CARRIED_TYPES = new Set(['counter', 'histogram']);

/**
 * In the primary: every live worker's registry as JSON (JSON_REQ / JSON_RES), the primary's own
 * `extra`, and the counters and histograms of the workers that exited, combined
 * (AggregatorRegistry.aggregate: counters summed, the catalogue's gauges by their own aggregator)
 * into one registry; a worker silent for JSON_WAIT_MS is left out.
 *
 * `retire(w)` is called when worker `w` exits: the counters and histograms it reported last are
 * added to the retired sum, so that the combined counters do not fall when a worker dies (Prometheus
 * would read the fall as a reset: rate() and increase() would count the live workers' totals again).
 * What the worker counted after the last gather is lost (a combined counter then grows less than
 * the requests served, never falls); its gauges go with it. The retired sum is one registry's worth
 * of samples, whatever the number of restarts.
 */
export function makeGather(extra: client.Registry) {
  let next = 0;
  const pending = new Map<number, (m: Msg) => void>();
  const last = new Map<Worker, MetricsJson>();
  let retired: MetricsJson = [];
  cluster.on('message', (w, m: Msg) => {
    if (m?.type !== JSON_RES || m.id === undefined) return;
    if (m.json) last.set(w, m.json);
    pending.get(m.id)?.(m);
  });
  const gather = async (): Promise<client.Registry> => {
    const ws = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w?.isConnected());
    const id = next++;
    const got: MetricsJson[] = [];
    await new Promise<void>((done) => {
      const t = setTimeout(done, JSON_WAIT_MS);
      pending.set(id, (m) => {
        if (m.json) got.push(m.json);
        if (got.length >= ws.length) {
          clearTimeout(t);
          done();
        }
      });
      if (ws.length === 0) done();
      for (const w of ws) w.send({ type: JSON_REQ, id });
    });
    pending.delete(id);
    got.push((await extra.getMetricsAsJSON()) as MetricsJson, retired);
    return client.AggregatorRegistry.aggregate(got);
  };
  const retire = (w: Worker): void => {
    const json = last.get(w);
    last.delete(w);
    if (!json) return;
    const carried = json.filter((m) => CARRIED_TYPES.has(m.type as unknown as string));
    // aggregate() builds plain metric objects (their own samples): read them at once, without a collect
    retired = client.AggregatorRegistry.aggregate([retired, carried]).getMetricsAsArray() as unknown as MetricsJson;
  };
  return { gather, retire };
}
