// `musketeers config show FILE [--set k=v]...` and `musketeers config reference`.

import type { Command } from 'commander';

import { configToYaml, loadConfig } from '../config.js';
import { configReferenceMarkdown, configReferenceRows } from '../config-reference.js';
import type { CommandContext } from '../context.js';
import { collect } from './options.js';

export function registerConfigCommands(program: Command, ctx: CommandContext): void {
  const config = program
    .command('config')
    .description('Validate and print configs; print the config reference.')
    .addHelpText(
      'after',
      `
Examples:
  $ musketeers config show configs/quickstart.yaml
  $ musketeers config show configs/quickstart.yaml --set data.trainSize=500 --set seed=3 --json
  $ musketeers config reference`,
    );

  config
    .command('show')
    .description('Validate a config (file + --set overrides) and print it fully resolved, every default filled in.')
    .argument('<file>', 'YAML config')
    .option('--set <key.path=value>', 'override a key (value read as YAML), repeatable', collect, [])
    .action((file: string, opts: { set: string[] }) => {
      const { config: resolved } = loadConfig(file, opts.set);
      if (ctx.machine) ctx.outJson(resolved);
      else ctx.io.out(configToYaml(resolved, `resolved from ${file}${opts.set.length ? ` with --set ${opts.set.join(' --set ')}` : ''}`));
    });

  config
    .command('reference')
    .description('Print every config key with its type, default and meaning (Markdown; JSON with --json).')
    .action(() => {
      if (ctx.machine) for (const r of configReferenceRows()) ctx.outJson(r);
      else ctx.outLine(configReferenceMarkdown());
    });
}
