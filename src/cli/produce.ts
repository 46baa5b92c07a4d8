/**
 * `lionctr produce`: the command and its flags, replaying a file into a Kafka topic, one
 * message per non-empty line (the replay: produce-file.ts; the progress on stderr:
 * produce-progress.ts); prints produceFile's summary as one JSON line on stdout. A broker out of
 * reach is retried up to --broker-wait seconds, then exits 3 (LIONCTR_BROKER_UNAVAILABLE).
 */
import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { createLogger } from '../log.ts';
import { MESSAGE_FORMATS } from '../ingest/kafka/message-decoder.ts';
import { intArg } from './commands/flags.ts';
import { configFrom, fatal, withConfigOptions } from './common.ts';
import { countMessages } from './file-lines.ts';
import { produceFile } from './produce-file.ts';
import { progressReporter } from './produce-progress.ts';

const count = (name: string) => intArg(name);

/** The `produce` subcommand (added to the program in commands.ts). */
export function produceCommand(): Command {
  return withConfigOptions(
    new Command('produce')
      .description(
        'replay a file into a Kafka topic, one message per non-empty line ' +
          '(exact line bytes; line i to partition i % partitions); prints a JSON summary',
      )
      .requiredOption('--input <file>', 'file to replay')
      .addOption(
        new Option(
          '--format <format>',
          'format of the lines, sent as header lionctr-format (default: kafka.format)',
        ).choices(MESSAGE_FORMATS.filter((f) => f !== 'arrow')),
      )
      .option('--topic <topic>', 'existing topic to write to (default: kafka.topic)')
      .option('--brokers <host:port,...>', 'bootstrap brokers (kafka.brokers)')
      .option('--rate <n>', 'messages per second, 0 = as fast as possible', count('--rate'), 0)
      .addOption(
        new Option(
          '--partitions-by <how>',
          'round-robin: line i to partition i % partitions; key: key = line index, murmur2 partitioner',
        )
          .choices(['round-robin', 'key'])
          .default('round-robin'),
      )
      .option('--skip <n>', 'non-empty lines to skip first', count('--skip'), 0)
      .option('--limit <n>', 'max messages after skipping (0 = all)', count('--limit'), 0)
      .option('--batch-size <n>', 'messages per produce request (acks=-1, awaited)', count('--batch-size'), 500)
      .option(
        '--broker-wait <seconds>',
        'keep retrying this long while no broker can be reached, then exit 3 (LIONCTR_BROKER_UNAVAILABLE)',
        count('--broker-wait'),
        60,
      ),
  )
    .showHelpAfterError()
    .action(async (o) => {
      try {
        const extra = o.brokers
          ? [
              `kafka.brokers=${JSON.stringify(
                String(o.brokers)
                  .split(',')
                  .map((s) => s.trim())
                  .filter(Boolean),
              )}`,
            ]
          : [];
        const cfg = configFrom(o, extra);
        const logger = createLogger(cfg.log.level);
        const input = resolve(o.input);
        const ac = new AbortController();
        const onSignal = (sig: string) => {
          if (ac.signal.aborted) process.exit(130);
          logger.info(`${sig}: stopping after the batch in flight`);
          ac.abort();
        };
        process.on('SIGTERM', () => onSignal('SIGTERM'));
        process.on('SIGINT', () => onSignal('SIGINT'));
        let total: number | undefined;
        if (process.stderr.isTTY) {
          try {
            total = await countMessages(input, o.skip, o.limit);
          } catch {
            /* produceFile reports it */
          }
        }
        const progress = progressReporter(logger, total);
        const summary = await produceFile({
          kafka: cfg.kafka,
          topic: o.topic ?? cfg.kafka.topic,
          input,
          format: o.format ?? cfg.kafka.format,
          rate: o.rate,
          partitionsBy: o.partitionsBy,
          skip: o.skip,
          limit: o.limit,
          batchSize: o.batchSize || 500,
          brokerWaitSeconds: o.brokerWait,
          signal: ac.signal,
          logger,
          onProgress: progress.update,
        });
        progress.end();
        process.stdout.write(`${JSON.stringify(summary)}\n`);
      } catch (e) {
        fatal(e);
      }
    });
}
