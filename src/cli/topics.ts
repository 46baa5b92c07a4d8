/**
 * `lionctr topics`: create the topics the Kafka source needs (the training topic and its
 * dead-letter topic) with the kafkajs admin API, waiting until every partition has a leader.
 */
import { Command } from 'commander';
import { LionctrError } from '../errors.ts';
import { createKafka } from '../ingest/kafka/client.ts';
import { intArg } from './commands/flags.ts';
import { configFrom, fatal, withConfigOptions } from './common.ts';

const positive = intArg('--partitions', 1);

/** The `topics` subcommand: `lionctr topics create [--partitions N] [--topic T]`. */
export function topicsCommand(): Command {
  const cmd = new Command('topics').description('Kafka topics of the kafka source');
  withConfigOptions(
    cmd
      .command('create')
      .description(
        'create kafka.topic and kafka.deadLetterTopic (existing ones are left alone); prints what it did as JSON',
      )
      .option('--topic <topic>', 'training topic (kafka.topic)')
      .option('--partitions <n>', 'partitions of the training topic', positive, 4)
      .option(
        '--dead-letter-topic <topic>',
        'dead-letter topic (kafka.deadLetterTopic; default <topic>.dlq when --topic is given)',
      )
      .option('--brokers <host:port,...>', 'bootstrap brokers (kafka.brokers)'),
  ).action(async (o) => {
    try {
      const extra = [
        ...(o.brokers ? [`kafka.brokers=${JSON.stringify(String(o.brokers).split(','))}`] : []),
        ...(o.topic ? [`kafka.topic=${JSON.stringify(o.topic)}`] : []),
        ...(o.deadLetterTopic
          ? [`kafka.deadLetterTopic=${JSON.stringify(o.deadLetterTopic)}`]
          : o.topic
            ? [`kafka.deadLetterTopic=${JSON.stringify(`${o.topic}.dlq`)}`]
            : []),
      ];
      const cfg = configFrom(o, extra);
      const admin = createKafka(cfg.kafka).admin();
      try {
        await admin.connect();
      } catch (e) {
        throw new LionctrError('LIONCTR_BROKER_UNAVAILABLE', `cannot reach Kafka: ${(e as Error).message}`, {
          where: 'kafka.brokers',
        });
      }
      try {
        const wanted = [{ topic: cfg.kafka.topic, numPartitions: o.partitions }];
        if (cfg.kafka.deadLetterTopic) wanted.push({ topic: cfg.kafka.deadLetterTopic, numPartitions: 1 });
        const existing = new Set(await admin.listTopics());
        const create = wanted.filter((t) => !existing.has(t.topic));
        if (create.length) await admin.createTopics({ topics: create, waitForLeaders: true });
        const old = wanted.filter((t) => existing.has(t.topic));
        const meta = old.length ? (await admin.fetchTopicMetadata({ topics: old.map((t) => t.topic) })).topics : [];
        for (const t of meta) {
          const w = wanted.find((x) => x.topic === t.name)!;
          if (t.partitions.length !== w.numPartitions)
            process.stderr.write(
              `lionctr: topic "${t.name}" exists with ${t.partitions.length} partitions ` +
                `(asked for ${w.numPartitions}); left as it is\n`,
            );
        }
        process.stdout.write(
          `${JSON.stringify({
            created: create.map((t) => t.topic),
            existing: meta.map((t) => ({ topic: t.name, partitions: t.partitions.length })),
          })}\n`,
        );
      } finally {
        await admin.disconnect();
      }
    } catch (e) {
      fatal(e);
    }
  });
  return cmd;
}
