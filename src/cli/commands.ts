/**
 * The `lionctr` command tree: run | train | serve | eval | produce | topics | native, one file each
 * (src/cli/commands/, src/cli/produce.ts, src/cli/topics.ts). Every command prints an error
 * as one line and exits with its code's exit status (src/cli/common.ts fatal()).
 */
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { addEvalCommand } from './commands/eval.ts';
import { nativeCommand } from './commands/native.ts';
import { addRunCommand } from './commands/run.ts';
import { addServeCommand } from './commands/serve.ts';
import { addTrainCommand } from './commands/train.ts';
import { produceCommand } from './produce.ts';
import { topicsCommand } from './topics.ts';

/** The `lionctr` command tree. */
export function buildProgram(): Command {
  const program = new Command('lionctr')
    .description('Online CTR training with the Lion optimizer: train, export, serve, evaluate')
    .version((createRequire(import.meta.url)('../../package.json') as { version: string }).version)
    .showHelpAfterError();
  // added with program.command(), so that they inherit showHelpAfterError
  addRunCommand(program);
  addTrainCommand(program);
  addServeCommand(program);
  addEvalCommand(program);
  program.addCommand(produceCommand());
  program.addCommand(topicsCommand());
  program.addCommand(nativeCommand());
  return program;
}
