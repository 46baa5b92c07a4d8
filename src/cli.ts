/** The `lionctr` command: run | train | serve | eval (each with --help). */
import { buildProgram } from './cli/commands.ts';

await buildProgram().parseAsync(process.argv);
