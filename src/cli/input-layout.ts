/**
 * @module The input layout of a config (label, time, ignored and weight columns, file format,
 * CSV and libSVM layout) as exports record it (src/model/featurization.ts InputLayout), and the
 * layout `lionctr eval` reads a file with: each key its config sets (a file, env, --set, a flag),
 * else the one the export recorded, else the default.
 */
import type { LoadedConfig } from '../config/loader.ts';
import type { LionctrConfig } from '../config/schema.ts';
import type { FileFormat } from '../ingest/config.ts';
import type { InputColumns } from '../ingest/input-columns.ts';
import type { InputLayout } from '../model/featurization.ts';
import { inputColumnsOf } from './common.ts';

/** The layout of `cfg`'s input files (plain JSON data, for the manifest). */
export function inputLayoutOf(cfg: LionctrConfig): InputLayout {
  const { label, time, ignore, weight } = cfg.schema;
  return {
    format: cfg.source.format,
    label,
    time: { ...time },
    ignore: [...ignore],
    weight: weight ?? '',
    csv: { ...cfg.source.csv, columns: [...cfg.source.csv.columns] },
    libsvm_field_starts: [...cfg.source.libsvm.fieldStarts],
  };
}

/** How an evaluated file is read: its format, column rules and libSVM field starts. */
export interface EvalInput {
  format: FileFormat;
  columns: InputColumns;
  fieldStarts: number[];
}

/**
 * The layout `eval` reads its file with: a key the config `loaded` sets (its origins) wins,
 * else the export's `recorded` layout's (when the export has one), else the config's default.
 */
export function evalInputOf(loaded: LoadedConfig<LionctrConfig>, recorded?: InputLayout): EvalInput {
  const cfg = loaded.config;
  const own = inputLayoutOf(cfg);
  const pick = <T>(key: string, mine: T, theirs: T | undefined): T =>
    loaded.origins.has(key) || theirs === undefined ? mine : theirs;
  const r = recorded;
  const layout: InputLayout = {
    format: pick('source.format', own.format, r?.format),
    label: pick('schema.label', own.label, r?.label),
    time: {
      column: pick('schema.time.column', own.time.column, r?.time?.column),
      format: pick('schema.time.format', own.time.format, r?.time?.format),
    },
    ignore: pick('schema.ignore', own.ignore, r?.ignore),
    weight: pick('schema.weight', own.weight, r?.weight),
    csv: {
      header: pick('source.csv.header', own.csv.header, r?.csv?.header),
      columns: pick('source.csv.columns', own.csv.columns, r?.csv?.columns),
      delimiter: pick('source.csv.delimiter', own.csv.delimiter, r?.csv?.delimiter),
    },
    libsvm_field_starts: pick('source.libsvm.fieldStarts', own.libsvm_field_starts, r?.libsvm_field_starts),
  };
  const columns: InputColumns = {
    ...inputColumnsOf(cfg),
    label: layout.label,
    time: layout.time,
    ignore: layout.ignore,
    weight: layout.weight,
    csv: layout.csv,
  };
  return { format: layout.format as FileFormat, columns, fieldStarts: layout.libsvm_field_starts };
}
