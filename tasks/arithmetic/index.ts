// The arithmetic tasks, one file each; this list is what the registry registers.

import type { AnyTaskDefinition } from '../types.js';
import { basicArithmeticTask } from './basic_arithmetic.js';
import { chainSumTask } from './chain_sum.js';
import { countBitsTask } from './count_bits.js';
import { fractionSimplificationTask } from './fraction_simplification.js';
import { gcdTask } from './gcd.js';
import { lcmTask } from './lcm.js';
import { legCountingTask } from './leg_counting.js';
import { productsTask } from './products.js';

export const arithmeticTasks: AnyTaskDefinition[] = [
  basicArithmeticTask,
  chainSumTask,
  productsTask,
  legCountingTask,
  gcdTask,
  lcmTask,
  fractionSimplificationTask,
  countBitsTask,
];
