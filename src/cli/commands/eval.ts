/**
 * `lionctr eval`: evaluates an export on a file (AUC, logloss, NE, calibration, examples;
 * src/train/evaluation/binary-metrics.ts), as a line or one JSON object. The figures are on the
 * full log's scale, as the trainer's progressive ones: predictions recalibrated for the
 * export's train.negativeRate, each example weighted by its sample weight (schema.weight) and,
 * when the file's own negatives were kept at a rate r (`--negative-rate`), each non-click by 1/r.
 * The file is read laid out as the trainer's input was (the export records it), unless the
 * config given here sets a layout key (cli/input-layout.ts).
 */
import { type Command, InvalidArgumentError } from 'commander';
import { jsonNumber } from '../../config/read-value.ts';
import { resolve } from 'node:path';
import { LionctrError } from '../../errors.ts';
import { Featurizer } from '../../features/featurizer.ts';
import { createFileSource } from '../../ingest/file-source.ts';
import { createLogger } from '../../log.ts';
import { selectBackend } from '../../model/backend.ts';
import { loadExport, resolveExportDir } from '../../model/export-reader.ts';
import { recalibrateAll } from '../../model/serving-rules.ts';
import { evalFigures, weightsOf } from '../../train/evaluation/binary-metrics.ts';
import { fatal, loadCommandConfig, withConfigOptions } from '../common.ts';
import { evalInputOf } from '../input-layout.ts';
import { fileFormat, intArg } from './flags.ts';

/** `x` to `d` decimals, `-` when undefined (NaN: AUC of a file without clicks, ...). */
const fx = (x: number, d: number): string => (Number.isNaN(x) ? '-' : x.toFixed(d));

/** Parser of --negative-rate: a number in (0, 1]. */
const rateArg = (v: string): number => {
  const r = jsonNumber(v);
  if (r === undefined || !(r > 0 && r <= 1))
    throw new InvalidArgumentError(`--negative-rate must be in (0, 1], got "${v}".`);
  return r;
};

/** Adds `eval` to the program. */
export function addEvalCommand(program: Command): void {
  withConfigOptions(
    program
      .command('eval')
      .description('evaluate an export on a file: AUC, logloss, NE, calibration, examples')
      .requiredOption('--model <dir>', 'export version dir, or exports root (uses LATEST)')
      .requiredOption('--input <file>', 'evaluation file')
      .addOption(fileFormat())
      .option('--skip <n>', 'data rows to skip first', intArg('--skip'))
      .option('--limit <n>', 'max data rows after skipping', intArg('--limit'))
      .option(
        '--negative-rate <r>',
        "the file's negatives were kept with probability r (a downsampled log): each counts 1/r (default 1)",
        rateArg,
      )
      .option('--json', 'print one JSON object {auc, logloss, ne, calibration, examples}; undefined ones null'),
  ).action(async (o) => {
    try {
      const loaded = loadCommandConfig(o),
        cfg = loaded.config;
      const logger = createLogger(cfg.log.level);
      await selectBackend(cfg.backend, (m) => logger.debug(m));
      const dir = await resolveExportDir(resolve(o.model));
      const { model, manifest } = await loadExport(dir);
      const fz = new Featurizer(manifest.schema);
      // the file's layout: the config's where it sets one, else the trainer's (input-layout.ts)
      const input = evalInputOf(loaded, manifest.featurization?.input);
      const src = createFileSource({
        path: resolve(o.input),
        format: o.format ?? input.format,
        schema: manifest.schema,
        skip: o.skip ?? 0,
        limit: o.limit || undefined,
        columns: input.columns,
        fieldStarts: input.fieldStarts,
      });
      const ps: number[] = [],
        ys: number[] = [],
        ws: number[] = [];
      for await (const rb of src.batches({ batchSize: 4096 })) {
        const b = fz.fromRecordBatch(rb);
        // trained on a log with downsampled negatives: on the evaluated file's scale (serving-rules.ts)
        const p = recalibrateAll(model.predict(b), model.rules.negativeRate);
        for (let i = 0; i < b.size; i++) {
          ps.push(p[i]);
          ys.push(b.labels[i]);
          ws.push(b.weights[i]);
        }
      }
      if (ps.length === 0) {
        const bad = JSON.stringify(src.stats().bad);
        const where = o.input;
        throw new LionctrError('LIONCTR_BAD_INPUT', `no usable rows to evaluate (bad rows: ${bad})`, { where });
      }
      const f = evalFigures(ps, ys, ps.length, weightsOf(ys, ys.length, o.negativeRate ?? 1, ws));
      if (o.json) process.stdout.write(`${JSON.stringify(f)}\n`);
      else {
        process.stdout.write(
          `model ${manifest.version} (step ${manifest.step}) on ${o.input}: ` +
            `AUC ${fx(f.auc, 4)}  logloss ${fx(f.logloss, 4)}  NE ${fx(f.ne, 4)}  ` +
            `calibration ${fx(f.calibration, 3)}  examples ${f.examples}\n`,
        );
      }
      model.dispose();
    } catch (e) {
      fatal(e);
    }
  });
}
