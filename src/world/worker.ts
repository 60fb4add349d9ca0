// Child process of a parallel world build (`buildWorld` with jobs > 1): receives one model to build,
// builds it exactly as the parent would in-process, reports steps and the finished card over IPC.

import { taskRegistry } from '../../tasks/index.js';
import type { MusketeersConfig } from '../config.js';
import { selectBackend, type BackendRequest } from '../models/backend.js';
import { buildModel, type WorkerMessage, type WorldEngineOptions } from './build.js';

interface Job {
  config: MusketeersConfig;
  index: number;
  backend: string;
  /** Several builds share the cores: one ONNX Runtime thread per operator each. */
  engine: WorldEngineOptions;
}

const send = (m: WorkerMessage) => new Promise<void>((resolve) => process.send!(m, undefined, undefined, () => resolve()));

// The parent gone (killed), nothing is waiting for this build: stop, leaving the last checkpoint for a
// resumed build. Training is synchronous, so besides the event the parent is checked at every step
// (an orphan is re-parented, which changes process.ppid).
const parent = process.ppid;
const orphaned = () => process.ppid !== parent || !process.connected;
process.on('disconnect', () => process.exit(1));

process.once('message', async (job: Job) => {
  try {
    const backend = await selectBackend(job.backend as BackendRequest);
    const model = job.config.world!.models[job.index];
    const card = await buildModel(job.config, model, job.index, taskRegistry, backend, {
      onStep: (_m, step, steps, loss) => {
        if (orphaned()) process.exit(1);
        process.send!({ type: 'step', step, steps, loss } satisfies WorkerMessage);
      },
      onResume: (_m, step) => void process.send!({ type: 'resume', step } satisfies WorkerMessage),
    }, job.engine);
    await send({ type: 'done', card });
    process.exit(0);
  } catch (error) {
    const e = error as Error;
    await send({ type: 'error', message: e.message ?? String(error), stack: e.stack });
    process.exit(1);
  }
});
