// The logic tasks, one file each; this list is what the registry registers.

import type { AnyTaskDefinition } from '../types.js';

export const logicTasks: AnyTaskDefinition[] = [];
