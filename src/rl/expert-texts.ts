// The frozen experts as writers (method text-concat): one ExpertGenerator per expert (ONNX Runtime, own
// tokenizer, greedy, on-disk text cache under `<experts.cacheDir>/texts`), generating for a batch of
// expert prompts and returning every expert's text per prompt.

import { join } from 'node:path';

import { ExpertGenerator, type GeneratedText } from '../experts/generate.js';
import type { ExecutionProvider } from '../experts/ort.js';
import { ExpertTextCache } from '../experts/text-cache.js';
import { openAll, type ExpertSpec, type ModelExpertSpec } from './expert-pool.js';

export interface ExpertTextPoolOptions {
  providers: ExecutionProvider[];
  /** Prompts per ONNX run. */
  batchSize: number;
  /** Longest text in each expert's own tokens. */
  maxNewTokens: number;
  /** Generation stops once the text contains one of these (the closing answer tag). */
  stopStrings: string[];
  /** Cache root (`experts.cacheDir`; texts go to its `texts/` folder), or null for none. */
  cacheDir: string | null;
  warn?: (message: string) => void;
}

export interface GeneratedTexts {
  /** texts[p][e]: expert e's generation for prompt p. */
  texts: GeneratedText[][];
  seconds: number;
  cached: number;
  computed: number;
}

export class ExpertTextPool {
  private constructor(
    readonly generators: ExpertGenerator[],
    readonly cache: ExpertTextCache | undefined,
  ) {}

  static async open(specs: readonly ExpertSpec[], options: ExpertTextPoolOptions): Promise<ExpertTextPool> {
    if (specs.length === 0) throw new Error('method text-concat needs at least one expert');
    const oracle = specs.find((s) => s.kind === 'oracle');
    if (oracle) throw new Error(`oracle expert '${oracle.name}' has no text to write; method text-concat reads model experts only`);
    const cache = options.cacheDir
      ? new ExpertTextCache(join(options.cacheDir, 'texts'), (file, reason) => options.warn?.(`expert text cache entry ${file} is corrupt (${reason}); regenerating it`))
      : undefined;
    const generators = await openAll(specs as readonly ModelExpertSpec[], (spec) =>
      ExpertGenerator.open(
        { name: spec.name, model: spec.model, tokenizer: spec.tokenizer, addBos: spec.addBos, maxNewTokens: options.maxNewTokens, stopStrings: options.stopStrings, batchSize: options.batchSize, executionProviders: options.providers },
        { cache, warn: options.warn },
      ),
    );
    return new ExpertTextPool(generators, cache);
  }

  get names(): string[] {
    return this.generators.map((g) => g.name);
  }

  /** Every expert's greedy text for each prompt (same order). */
  async generate(prompts: readonly string[]): Promise<GeneratedTexts> {
    const started = performance.now();
    const perExpert: GeneratedText[][] = [];
    let cached = 0;
    let computed = 0;
    for (const g of this.generators) {
      perExpert.push(await g.generate(prompts));
      cached += g.lastStats.cached;
      computed += g.lastStats.computed;
    }
    const texts = prompts.map((_, p) => perExpert.map((list) => list[p]));
    return { texts, seconds: (performance.now() - started) / 1000, cached, computed };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.generators.map((g) => g.dispose()));
  }
}
