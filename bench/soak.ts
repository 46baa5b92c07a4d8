/**
 * Leak check for a long-running daemon: N training steps and M predictions on a fixed
 * set of batches (so embedding tables stop growing after the first pass), printing
 * tf.memory().numTensors, tfjs bytes and RSS as it goes. Exits 1 when tensors or tfjs
 * bytes grow after warm-up, or RSS grows by more than --rss-slack-mb over the second half.
 *
 *   npx tsx bench/soak.ts [--steps 10000] [--predictions 100000] [--batch 256] [--rss-slack-mb 64]
 */
import { parseArgs } from 'node:util';
import { soak } from '../test/helpers/soak.ts';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '10000' },
    predictions: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '256' },
    'rss-slack-mb': { type: 'string', default: '64' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log('usage: npx tsx bench/soak.ts [--steps 10000] [--predictions 100000] [--batch 256] [--rss-slack-mb 64]');
  process.exit(0);
}
const r = await soak({
  steps: Number(values.steps),
  predictions: Number(values.predictions),
  batch: Number(values.batch),
  rssSlackMb: Number(values['rss-slack-mb']),
});
process.exit(r.ok ? 0 : 1);
