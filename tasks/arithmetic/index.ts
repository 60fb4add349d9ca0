// The arithmetic tasks, one file each; this list is what the registry registers.

import type { AnyTaskDefinition } from '../types.js';

export const arithmeticTasks: AnyTaskDefinition[] = [];
