/**
 * The `lionctr` command tree: run | train | serve | eval | tune | produce | topics | schema | native, one file each
 * (src/cli/commands/, src/cli/produce.ts, src/cli/topics.ts). Every command prints an error
 * as one line and exits with its code's exit status (src/cli/common.ts fatal()); a usage error
 * (unknown option, bad argument) exits 2 (USAGE_EXIT), like a config error.
 */
import { Command } from 'commander';
import { USAGE_EXIT } from '../errors.ts';
import { createRequire } from 'node:module';
import { addEvalCommand } from './commands/eval.ts';
import { nativeCommand } from './commands/native.ts';
import { addRunCommand } from './commands/run.ts';
import { schemaCommand } from './commands/schema.ts';
import { addServeCommand } from './commands/serve.ts';
import { addTrainCommand } from './commands/train.ts';
import { addTuneCommand } from './commands/tune.ts';
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
  addTuneCommand(program);
  program.addCommand(produceCommand());
  program.addCommand(topicsCommand());
  program.addCommand(schemaCommand());
  program.addCommand(nativeCommand());
  usageErrorsExit2(program);
  return program;
}

/** Makes `cmd` and its subcommands exit USAGE_EXIT on a usage error (commander's default is 1); help exits 0. */
function usageErrorsExit2(cmd: Command): void {
  cmd.exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : USAGE_EXIT));
  for (const sub of cmd.commands) usageErrorsExit2(sub);
}
