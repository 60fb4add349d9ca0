// Ctrl-C for long commands: the first SIGINT asks the work to stop at its next safe point (through an
// AbortSignal) and says so; a second one is left to Node's default handling, which ends the process.

import type { CommandContext } from '../context.js';

export async function withSigint<T>(ctx: CommandContext, message: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSigint = () => {
    ctx.logger.warn(`SIGINT: ${message} (press Ctrl-C again to kill)`);
    process.removeListener('SIGINT', onSigint);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    return await work(controller.signal);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
