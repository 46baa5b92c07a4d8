/**
 * Flags shared by several commands, and the config overrides (`key=value`, as --set takes
 * them) that they stand for.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { jsonNumber } from '../../config/read-value.ts';
import { FILE_FORMATS } from '../../ingest/config.ts';

/** The flags of run and serve as config overrides (see endpointOptions). */
export const serveFlags = (o: {
  port?: string;
  host?: string;
  modelName?: string;
  exportDir?: string;
  checkpointDir?: string;
  brokers?: string;
}) => [
  ...(o.port ? [`serve.port=${o.port}`] : []),
  ...(o.host ? [`serve.host=${JSON.stringify(o.host)}`] : []),
  ...(o.modelName ? [`serve.modelName=${JSON.stringify(o.modelName)}`] : []),
  ...brokerFlag(o),
  ...(o.checkpointDir ? [`checkpoint.dir=${JSON.stringify(o.checkpointDir)}`] : []),
  ...(o.exportDir ? [`export.dir=${JSON.stringify(o.exportDir)}`] : []),
];

/** Adds the prediction endpoint's flags of run and serve: --port, --host, --model-name. */
export const endpointOptions = (cmd: Command): Command =>
  cmd
    .option('--port <port>', 'port of the prediction endpoint (serve.port)')
    .option('--host <address>', 'address to bind, 0.0.0.0 for all interfaces, e.g. in a container (serve.host)')
    .option('--model-name <name>', 'model name in /v1/models/<name> (serve.modelName)');

/** `--brokers h1:9092,h2:9092` as the kafka.brokers override. */
export const brokerFlag = (o: { brokers?: string }): string[] =>
  o.brokers
    ? [
        `kafka.brokers=${JSON.stringify(
          o.brokers
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean),
        )}`,
      ]
    : [];

/** `--format <one of FILE_FORMATS>` of an input file (default: source.format, criteo). */
export const fileFormat = () =>
  new Option('--format <format>', 'input format (default: source.format, criteo)').choices([...FILE_FORMATS]);

/**
 * Parser of an integer flag >= `min` (default 0), read like a config value: a whole JSON number
 * (`1e3` = 1000; `5k`, `0x10`, empty refused); commander reports `<name> must be an integer >= min.`
 */
export const intArg =
  (name: string, min = 0) =>
  (v: string) => {
    const n = jsonNumber(v);
    if (n === undefined || !Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got "${v}".`);
    }
    return n;
  };
