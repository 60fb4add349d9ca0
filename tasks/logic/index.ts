// The logic tasks, one file each; this list is what the registry registers.

import type { AnyTaskDefinition } from '../types.js';
import { knightsKnavesTask } from './knights_knaves.js';
import { propositionalLogicTask } from './propositional_logic.js';

export const logicTasks: AnyTaskDefinition[] = [
  propositionalLogicTask,
  knightsKnavesTask,
];
