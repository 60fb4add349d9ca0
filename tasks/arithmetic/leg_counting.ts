// Reasoning Gym's `leg_counting` task: total the legs of a random group of animals.
// Same config, animal list (names, order and leg counts, so that items match RG's), RNG stream and
// default scorer; the question is our own wording with proper English plurals.

import { z } from 'zod';

import { baseTaskConfigShape, minimum, orderedRange } from '../common/config.js';
import { rngForItem } from '../common/rng.js';
import { exactOrContainedScore } from '../common/scoring.js';
import { defineTask, type TaskEntry } from '../types.js';

const DATASET_NAME = 'leg_counting';

/**
 * [name, legs, plural]. Names and their order are Reasoning Gym's dictionary keys: `rng.sample` draws
 * from this order and `metadata.animals` is keyed by these names.
 */
const ANIMAL_TABLE: readonly (readonly [string, number, string])[] = [
  ['snake', 0, 'snakes'],
  ['sea slug', 0, 'sea slugs'],
  ['jellyfish', 0, 'jellyfish'],
  ['flatworm', 0, 'flatworms'],
  ['leech', 0, 'leeches'],
  ['chicken', 2, 'chickens'],
  ['bird', 2, 'birds'],
  ['human', 2, 'humans'],
  ['duck', 2, 'ducks'],
  ['dog', 4, 'dogs'],
  ['cat', 4, 'cats'],
  ['cow', 4, 'cows'],
  ['horse', 4, 'horses'],
  ['lion', 4, 'lions'],
  ['elephant', 4, 'elephants'],
  ['giraffe', 4, 'giraffes'],
  ['tiger', 4, 'tigers'],
  ['deer', 4, 'deer'],
  ['sheep', 4, 'sheep'],
  ['starfish', 5, 'starfish'],
  ['insect', 6, 'insects'],
  ['ant', 6, 'ants'],
  ['butterfly', 6, 'butterflies'],
  ['beetle', 6, 'beetles'],
  ['bee', 6, 'bees'],
  ['wasp', 6, 'wasps'],
  ['grasshopper', 6, 'grasshoppers'],
  ['cricket', 6, 'crickets'],
  ['cockroach', 6, 'cockroaches'],
  ['praying mantis', 6, 'praying mantises'],
  ['firefly', 6, 'fireflies'],
  ['spider', 8, 'spiders'],
  ['scorpion', 8, 'scorpions'],
  ['crab', 10, 'crabs'],
  ['lobster', 10, 'lobsters'],
  ['shrimp', 10, 'shrimp'],
  ['woodlouse', 14, 'woodlice'],
];

const ANIMAL_NAMES = ANIMAL_TABLE.map(([name]) => name);
const LEGS = new Map(ANIMAL_TABLE.map(([name, legs]) => [name, legs]));
const PLURALS = new Map(ANIMAL_TABLE.map(([name, , plural]) => [name, plural]));

/** Legs per animal, keyed by Reasoning Gym's names. */
export const ANIMAL_LEGS: ReadonlyMap<string, number> = LEGS;

export const legCountingConfigSchema = z
  .object({
    ...baseTaskConfigShape,
    min_animals: z.number().int().default(3).describe('fewest distinct kinds of animal (at least 1)'),
    max_animals: z
      .number()
      .int()
      .default(10)
      .describe(`most distinct kinds of animal (>= min_animals, at most ${ANIMAL_TABLE.length})`),
    min_instances: z.number().int().default(1).describe('fewest animals of each kind (at least 1)'),
    max_instances: z.number().int().default(15).describe('most animals of each kind (>= min_instances)'),
  })
  .strict()
  .superRefine((config, ctx) => {
    minimum<typeof config>('min_animals', 1)(config, ctx);
    orderedRange<typeof config>('min_animals', 'max_animals')(config, ctx);
    if (config.max_animals > ANIMAL_TABLE.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_animals'],
        message:
          `max_animals (${config.max_animals}) must be at most ${ANIMAL_TABLE.length}, ` +
          'the number of animal kinds available; lower max_animals',
      });
    }
    minimum<typeof config>('min_instances', 1)(config, ctx);
    orderedRange<typeof config>('min_instances', 'max_instances')(config, ctx);
  });

export type LegCountingConfig = z.output<typeof legCountingConfigSchema>;

function listInEnglish(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

export const legCountingTask = defineTask<LegCountingConfig>({
  name: DATASET_NAME,
  category: 'arithmetic',
  description: 'Count the total number of legs in a group of animals.',
  configSchema: legCountingConfigSchema,

  generate(config, index): TaskEntry {
    const rng = rngForItem(config.seed, index);
    const numTypes = rng.randint(config.min_animals, config.max_animals);
    const animals: Record<string, number> = {};
    for (const name of rng.sample(ANIMAL_NAMES, numTypes)) {
      animals[name] = rng.randint(config.min_instances, config.max_instances);
    }
    let totalLegs = 0;
    const described: string[] = [];
    for (const [name, count] of Object.entries(animals)) {
      totalLegs += count * LEGS.get(name)!;
      described.push(`${count} ${count === 1 ? name : PLURALS.get(name)!}`);
    }

    return {
      question:
        `A group is made up of ${listInEnglish(described)}. ` +
        'Counting every leg of every animal, how many legs does the group have in total? Answer with a single integer.',
      answer: String(totalLegs),
      metadata: {
        source_dataset: DATASET_NAME,
        source_index: index,
        animals,
        num_animals: Object.keys(animals).length,
        total_legs: totalLegs,
        difficulty: {
          num_animals: [config.min_animals, config.max_animals],
          num_instances: [config.min_instances, config.max_instances],
        },
      },
    };
  },

  score(answer, entry) {
    // RG's default ProceduralDataset.score_answer (no override for this task). RG raises a TypeError
    // when entry.answer is not a string and the candidate differs; that scores 0 here.
    return typeof entry.answer === 'string' ? exactOrContainedScore(answer, entry.answer) : 0;
  },
});
