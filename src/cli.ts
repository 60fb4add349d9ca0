// Builds the `musketeers` command-line program and runs it. The only place that maps errors to exit
// codes (0 ok, 1 failure, 2 usage or config error); commands are thin adapters over plain functions.

import { Command, CommanderError, Option } from 'commander';

import { registerConfigCommands } from './commands/config.js';
import { registerAblateCommand } from './commands/ablate.js';
import { registerEvalCommand } from './commands/eval.js';
import { registerExpertsCommands } from './commands/experts.js';
import { registerPlotCommand } from './commands/plot.js';
import { registerProbeCommand } from './commands/probe.js';
import { registerReportCommand } from './commands/report.js';
import { registerScoreCommand } from './commands/score.js';
import { registerSweepCommand } from './commands/sweep.js';
import { registerTasksCommands } from './commands/tasks.js';
import { registerTrainCommand } from './commands/train.js';
import { CommandContext, processIo, type GlobalOptions, type Io } from './context.js';
import { EXIT_OK, EXIT_USAGE, MusketeersError, exitCodeOf } from './errors.js';
import type { LogLevel } from './log.js';
import { VERSION } from './version.js';

const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function buildProgram(io: Io = processIo): { program: Command; ctx: CommandContext } {
  const program = new Command();
  const ctx = new CommandContext(io, () => {
    const o = program.opts<{ json?: boolean; logLevel: LogLevel }>();
    return { json: Boolean(o.json), logLevel: o.logLevel } satisfies GlobalOptions;
  });
  program
    .name('musketeers')
    .description(
      'Experiment runner for soft hidden-state collaboration among language models: frozen experts, ' +
        'a Perceiver router trained with GRPO on verifiable tasks (Reasoning Gym, GSM8K).',
    )
    .version(VERSION, '-V, --version')
    .option('--json', 'machine-readable output: JSON results on stdout and JSON logs on stderr (logs are JSON in CI anyway)')
    .addOption(new Option('--log-level <level>', 'log verbosity').choices(LOG_LEVELS).default('info'))
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();
  program.addHelpText(
    'after',
    `
Getting started:
  $ musketeers tasks list                          the 15 Reasoning Gym-compatible tasks
  $ musketeers tasks sample chain_sum -n 3         items of one task (deterministic by --seed)
  $ musketeers config show configs/quickstart.yaml the resolved config, every default filled in
  $ musketeers score --input lines.jsonl           score candidates like reasoning_gym / lm-eval
  $ musketeers experts build configs/quickstart.yaml   build the tiny experts and policy base
  $ musketeers experts inspect models/quickstart/expert-sums/model.onnx
  $ musketeers train configs/quickstart.yaml       build what is missing, train the router with GRPO
  $ musketeers probe runs/quickstart               is the answer linearly readable in experts, router, policy?

Exit codes: 0 ok, 1 failure, 2 usage or config error.`,
  );
  registerTasksCommands(program, ctx);
  registerScoreCommand(program, ctx);
  registerConfigCommands(program, ctx);
  registerExpertsCommands(program, ctx);
  registerTrainCommand(program, ctx);
  registerEvalCommand(program, ctx);
  registerAblateCommand(program, ctx);
  registerPlotCommand(program, ctx);
  registerProbeCommand(program, ctx);
  registerReportCommand(program, ctx);
  registerSweepCommand(program, ctx);
  for (const command of program.commands) {
    command.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
    for (const sub of command.commands) sub.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  }
  return { program, ctx };
}

/** Run the CLI with `argv` (as process.argv: node, script, args...); returns the exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const { program, ctx } = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT_OK;
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const code = exitCodeOf(error);
    const json = (() => {
      try {
        return ctx.globals.json || Boolean(process.env.CI);
      } catch {
        return false;
      }
    })();
    if (json) {
      io.err(`${JSON.stringify({ level: 'error', error: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error), exitCode: code })}\n`);
    } else if (error instanceof MusketeersError) {
      io.err(`error: ${error.message}\n`);
    } else {
      const e = error as Error;
      io.err(`error: ${e?.message ?? String(error)}\n${process.env.MUSKETEERS_DEBUG ? `${e?.stack ?? ''}\n` : '(set MUSKETEERS_DEBUG=1 for a stack trace)\n'}`);
    }
    return code;
  }
}
