// `musketeers experts inspect MODEL.onnx`: what an expert model offers the router.

import { existsSync } from 'node:fs';

import type { Command } from 'commander';

import { formatInspection, inspectModel } from '../experts/inspect.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../errors.js';

export function registerExpertsCommands(program: Command, ctx: CommandContext): void {
  const experts = program.command('experts').description('Frozen expert models: inspect their ONNX graphs.');
  experts
    .command('inspect')
    .description('Print inputs, outputs, metadata and the hidden-state tensors per layer (with widths) of an ONNX decoder.')
    .argument('<model>', 'path of a model.onnx')
    .addHelpText(
      'after',
      `
Layer indices count from 0 (embeddings) to L (last decoder layer); negative indices count from the end
(-1 = last layer). "internal" layers are not graph outputs but the expert runner exposes them on demand.

Example:
  $ musketeers experts inspect models/expert-sums/model.onnx --json`,
    )
    .action((model: string) => {
      if (!existsSync(model)) throw new UsageError(`model file not found: ${model}`);
      const r = inspectModel(model);
      if (ctx.machine) ctx.outJson(r);
      else ctx.outLine(formatInspection(r));
    });
}
