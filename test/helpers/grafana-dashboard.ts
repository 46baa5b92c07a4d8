/**
 * The shape lionctr's Grafana dashboard (ops/grafana/lionctr-dashboard.json) must have, from
 * Grafana's published schema types (@grafana/schema 13.2.3: the classic dashboard JSON model
 * `Dashboard`, `Panel`, `RowPanel`, `AnnotationQuery`, and the timeseries panel's `Options` and
 * `FieldConfig`), narrowed where the package leaves a record open: every panel is a timeseries
 * (or a row) whose targets are Prometheus queries. The package has no Prometheus query type, so
 * PromQuery restates the Prometheus plugin's query fields used here (Grafana's
 * packages/grafana-prometheus dataquery: expr, legendFormat, range, instant, interval); the
 * annotation fields titleFormat, textFormat, tagKeys, useValueForTime are that plugin's too.
 * `Json<T>` is T as JSON spells it: enums as their values (Grafana writes `"list"`, `2`).
 * test/unit/ops/dashboard-schema.test.ts type-checks the JSON against LionctrDashboard with tsc.
 */
import type { AnnotationQuery, Dashboard, DataQuery, Panel, RowPanel } from '@grafana/schema';
import type {
  FieldConfig as TimeSeriesFieldConfig,
  Options as TimeSeriesOptions,
} from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

/** A Prometheus query of a panel or annotation. */
export interface PromQuery extends DataQuery {
  expr: string;
  legendFormat?: string;
  range?: boolean;
  instant?: boolean;
  interval?: string;
}

/** A timeseries panel of Prometheus queries. */
export type TimeSeriesPanel = Omit<
  Panel<Record<string, unknown>, TimeSeriesFieldConfig>,
  'type' | 'options' | 'targets'
> & {
  type: 'timeseries';
  options: TimeSeriesOptions;
  targets: PromQuery[];
};

/** An annotation: Grafana's built-in one, or a Prometheus query (the plugin's extra fields). */
export type PromAnnotation = AnnotationQuery<PromQuery> & {
  titleFormat?: string;
  textFormat?: string;
  tagKeys?: string;
  useValueForTime?: boolean;
};

/** lionctr's dashboard. */
export type LionctrDashboard = Omit<Dashboard, 'panels' | 'annotations'> & {
  panels: Array<TimeSeriesPanel | RowPanel>;
  annotations: { list: PromAnnotation[] };
};

/** A number-valued enum's values as number literals. */
type NumberValues<T extends number> = `${T}` extends `${infer N extends number}` ? N : never;

/** T as JSON spells it: string enums as their strings, number enums as their numbers, deeply. */
export type Json<T> = T extends string
  ? string extends T
    ? string
    : `${T}`
  : T extends number
    ? number extends T
      ? number
      : NumberValues<T>
    : T extends readonly (infer U)[]
      ? Json<U>[]
      : T extends object
        ? { [K in keyof T]: Json<T[K]> }
        : T;
