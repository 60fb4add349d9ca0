// The default task registry: every task the project ships, registered once by name.

import { algorithmicTasks } from './algorithmic/index.js';
import { arithmeticTasks } from './arithmetic/index.js';
import { logicTasks } from './logic/index.js';
import { TaskRegistry } from './registry.js';

export function createDefaultRegistry(): TaskRegistry {
  const registry = new TaskRegistry();
  for (const task of [...arithmeticTasks, ...algorithmicTasks, ...logicTasks]) registry.register(task);
  return registry;
}

export const taskRegistry = createDefaultRegistry();

export type { AnyTaskDefinition, TaskDefinition, TaskEntry, EntryMetadata, TaskCategory } from './types.js';
