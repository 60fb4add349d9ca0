// The algorithmic tasks, one file each; this list is what the registry registers.

import type { AnyTaskDefinition } from '../types.js';
import { baseConversionTask } from './base_conversion.js';
import { letterCountingTask } from './letter_counting.js';
import { numberSortingTask } from './number_sorting.js';
import { spellBackwardTask } from './spell_backward.js';
import { wordSortingTask } from './word_sorting.js';

export const algorithmicTasks: AnyTaskDefinition[] = [
  letterCountingTask,
  wordSortingTask,
  spellBackwardTask,
  numberSortingTask,
  baseConversionTask,
];
