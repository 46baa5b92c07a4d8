/**
 * `lionctr schema infer`: samples an input file (csv, jsonl, arrow, libsvm, libffm; gzip too) and
 * prints, as JSON on stdout, a config that `--config` takes (label column, time column and format,
 * numeric / categorical / ignored columns, the CSV layout, libSVM field starts); each decision and
 * its reason go to stderr (src/ingest/schema-infer.ts, src/ingest/sparse-infer.ts).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { LionctrError } from '../../errors.ts';
import { criteoSlots } from '../../features/schema.ts';
import { type ColumnSample, sampleCsv, sampleJsonl } from '../../ingest/column-sample.ts';
import { delimiterOf } from '../../ingest/input-columns.ts';
import { sampleArrow } from '../../ingest/arrow-sample.ts';
import { inferSchema } from '../../ingest/schema-infer.ts';
import { inferLibffm, inferLibsvm } from '../../ingest/sparse-infer.ts';
import { fatal } from '../common.ts';
import { intArg } from './flags.ts';

const BY_EXTENSION: Record<string, string> = {
  '.jsonl': 'jsonl',
  '.json': 'jsonl',
  '.ndjson': 'jsonl',
  '.arrow': 'arrow',
  '.feather': 'arrow',
  '.ipc': 'arrow',
  '.svm': 'libsvm',
  '.libsvm': 'libsvm',
  '.libfm': 'libsvm',
  '.ffm': 'libffm',
  '.libffm': 'libffm',
};

/** The format of `path` by its extension (a trailing .gz passed over); csv when not known. */
const formatOf = (path: string): string => BY_EXTENSION[extname(path.replace(/\.gz$/, ''))] ?? 'csv';

const say = (s: string) => process.stderr.write(`lionctr schema infer: ${s}\n`);

/** The config of a libSVM / libFFM file (src/ingest/sparse-infer.ts). */
async function sparseConfig(format: string, path: string, rows: number, starts?: number[]): Promise<object> {
  const inf = format === 'libffm' ? await inferLibffm(path, rows) : await inferLibsvm(path, rows, starts);
  say(`${inf.rows} lines sampled of ${path}; field k is slot k of schema.numeric followed by schema.categorical`);
  for (const n of inf.notes) say(n);
  const libsvm = inf.fieldStarts ? { libsvm: { fieldStarts: inf.fieldStarts } } : {};
  return { source: { format, ...libsvm }, schema: { numeric: inf.numeric, categorical: inf.categorical } };
}

/** The config of an Arrow IPC file: `label` and `ts` by name, as the Arrow reader takes them. */
async function arrowConfig(path: string, rows: number, label?: string): Promise<object> {
  const sample = await sampleArrow(path, rows);
  const inf = inferSchema(sample, label);
  say(`${sample.rows} rows sampled of ${path} (Arrow: columns by name and type)`);
  for (const n of inf.notes) say(n);
  if (inf.label !== 'label')
    throw new LionctrError(
      'LIONCTR_BAD_INPUT',
      `Arrow input is read with its label in the column "label", ` +
        `but the label here is "${inf.label}": rename the column`,
      { where: path },
    );
  const t = inf.time;
  if (t && t.column !== 'ts') {
    say(`"${t.column}" is not read as the event time (Arrow input reads the column "ts" only): ignored`);
    inf.ignore.push(t.column);
  } else if (t && t.format !== 'ms')
    throw new LionctrError(
      'LIONCTR_BAD_INPUT',
      `Arrow column "ts" reads as ${t.format}, but Arrow input takes ` +
        'ts as ms since the epoch or an Arrow timestamp: convert it',
      { where: path },
    );
  return {
    source: { format: 'arrow' },
    schema: { label: 'label', numeric: inf.numeric, categorical: inf.categorical, ignore: inf.ignore },
  };
}

/** `--field-starts a,b,...` as ascending integers >= 0. */
function fieldStartsArg(v: string): number[] {
  const s = v.split(',').map((x) => Number(x.trim()));
  if (s.some((x, i) => !Number.isInteger(x) || x < 0 || (i > 0 && x <= s[i - 1])))
    throw new InvalidArgumentError(`--field-starts must be ascending integers >= 0, got "${v}"`);
  return s;
}

/** A config value's delimiter as it is written in JSON (a tab as `tab`). */
const shownDelimiter = (d: string): string => (d === '\t' ? 'tab' : d);

/** The config of a Criteo TSV file: positional, nothing to infer. */
function criteoConfig(): object {
  process.stderr.write(
    'lionctr schema infer: the criteo format is positional (label, I1..I13 numeric, C1..C26 categorical); ' +
      'to let the data decide each column, infer it as --format csv\n',
  );
  return { source: { format: 'criteo' }, schema: criteoSlots() };
}

/** Adds `schema infer` to the program. */
export function schemaCommand(): Command {
  const cmd = new Command('schema').description('the columns of your own click log');
  cmd
    .command('infer')
    .description(
      'sample a file and print a config for --config (JSON on stdout; each decision and why on stderr): ' +
        'the label column, the time column and its format, numeric, categorical and ignored columns, the CSV layout',
    )
    .requiredOption('--input <file>', 'the file to sample')
    .addOption(
      new Option(
        '--format <format>',
        'input format (default: by extension, .gz passed over: .jsonl, .json, .ndjson: jsonl; .arrow, .feather, ' +
          '.ipc: arrow; .svm, .libsvm, .libfm: libsvm; .ffm, .libffm: libffm; else csv)',
      ).choices(['csv', 'jsonl', 'criteo', 'arrow', 'libsvm', 'libffm']),
    )
    .option('--field-starts <a,b,...>', 'libsvm: the first index of each field (default: inferred)', fieldStartsArg)
    .option('--label <column>', 'the label column (default: found by name, else the first column of 0s and 1s)')
    .option('--sample <n>', 'rows to sample from the start of the file', intArg('--sample', 1), 10000)
    .option('--delimiter <char>', 'CSV field delimiter, or tab (default: sniffed from the first line)')
    .option('--columns <a,b,...>', 'the column names of a CSV file without a header line')
    .action(async (o) => {
      try {
        const path = resolve(o.input);
        if (!existsSync(path) || !statSync(path).isFile())
          throw new LionctrError('LIONCTR_BAD_INPUT', 'input file not found (or not a file)', { where: path });
        const format: string = o.format ?? formatOf(path);
        if (format === 'criteo') {
          process.stdout.write(`${JSON.stringify(criteoConfig(), null, 2)}\n`);
          return;
        }
        if (format === 'libsvm' || format === 'libffm' || format === 'arrow') {
          const cfg =
            format === 'arrow'
              ? await arrowConfig(path, o.sample, o.label)
              : await sparseConfig(format, path, o.sample, o.fieldStarts);
          process.stdout.write(`${JSON.stringify(cfg, null, 2)}\n`);
          return;
        }
        if (o.delimiter !== undefined && delimiterOf(o.delimiter).length !== 1)
          throw new InvalidArgumentError(`--delimiter must be one character or tab, got "${o.delimiter}"`);
        const columns = o.columns
          ? String(o.columns)
              .split(',')
              .map((c: string) => c.trim())
          : undefined;
        const sample: ColumnSample =
          format === 'jsonl'
            ? await sampleJsonl(path, o.sample, 'ts')
            : await sampleCsv(path, o.sample, { delimiter: o.delimiter && delimiterOf(o.delimiter), columns });
        const inf = inferSchema(sample, o.label);
        const layout = sample.csv;
        say(
          `${sample.rows} rows sampled of ${o.input}` +
            (layout
              ? `; delimiter ${JSON.stringify(layout.delimiter)}, ${layout.header ? 'a' : 'no'} header line`
              : ''),
        );
        for (const n of inf.notes) say(n);
        const csv = layout && {
          header: layout.header,
          delimiter: shownDelimiter(layout.delimiter),
          ...(layout.header ? {} : { columns: sample.names }),
        };
        const config = {
          source: { format, ...(csv ? { csv } : {}) },
          schema: {
            ...(format === 'csv' ? { label: inf.label } : {}),
            ...(inf.time ? { time: inf.time } : {}),
            numeric: inf.numeric,
            categorical: inf.categorical,
            ignore: inf.ignore,
          },
        };
        if (format === 'jsonl' && inf.label !== 'label')
          throw new LionctrError('LIONCTR_BAD_INPUT', 'JSON lines carry their label under the key "label"');
        process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
      } catch (e) {
        if (e instanceof InvalidArgumentError) fatal(new LionctrError('LIONCTR_BAD_CONFIG', e.message));
        fatal(e);
      }
    });
  return cmd;
}
