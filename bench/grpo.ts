// One GRPO step at the quickstart sizes, broken into phases (experts, rollout, reward, reference,
// backward, update): seconds per step, share of the step, tokens/s per phase, and peak memory. It runs
// the real training loop (src/rl/trainer.ts) for a few steps and reads the per-phase times the loop
// writes to metrics.jsonl. The quickstart world is used when it is built (`experts build`); otherwise a
// stand-in world with the same architectures and one SFT step per model is built in a temporary
// directory (its policy rarely stops early, so completions run to maxNewTokens: an upper bound).

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfig, type MusketeersConfig } from '../src/config.js';
import * as tf from '../src/models/tf.js';
import { readJsonl } from '../src/rl/run-dir.js';
import { train, type StepMetrics } from '../src/rl/trainer.js';
import { modelConfigHash, modelDir, readCard } from '../src/world/build.js';
import { PACKAGE_ROOT } from '../src/version.js';
import { round, type BenchContext, type BenchSection, type BenchSectionDef } from './common.js';

export interface GrpoBenchOptions {
  /** Config whose sizes are benchmarked; default configs/quickstart.yaml. */
  configPath?: string;
  /** Timed steps after one warm-up step; default 5 (quick: 1). */
  steps?: number;
  /** Extra --set overrides (tests shrink the sizes). */
  overrides?: string[];
}

function worldIsBuilt(config: MusketeersConfig): boolean {
  return (config.world?.models ?? []).every((m) => readCard(modelDir(config, m.name))?.configHash === modelConfigHash(config, m) && existsSync(join(modelDir(config, m.name), 'model.onnx')));
}

const PHASES: { key: string; label: string; tokens: 'prompt' | 'completion' | 'all' | 'none' }[] = [
  { key: 'time/experts', label: 'experts (ONNX, cold cache)', tokens: 'none' },
  { key: 'time/rollout', label: 'rollout (KV-cached sampling)', tokens: 'completion' },
  { key: 'time/reward', label: 'reward (extract + verify)', tokens: 'completion' },
  { key: 'time/reference', label: 'reference log-probs', tokens: 'all' },
  { key: 'time/backward', label: 'backward (fwd + bwd)', tokens: 'all' },
  { key: 'time/update', label: 'update (Adam)', tokens: 'none' },
];

export async function benchGrpo(ctx: BenchContext, options: GrpoBenchOptions = {}): Promise<BenchSection> {
  const configPath = options.configPath ?? join(PACKAGE_ROOT, 'configs', 'quickstart.yaml');
  const timed = options.steps ?? (ctx.quick ? 1 : 5);
  const scratch = mkdtempSync(join(tmpdir(), 'musketeers-bench-grpo-'));
  try {
    const base = loadConfig(configPath, options.overrides ?? []).config;
    const standIn = !worldIsBuilt(base);
    const overrides = [
      ...(options.overrides ?? []),
      `outputDir=${scratch}`,
      'name=bench-grpo',
      `train.steps=${timed + 1}`,
      'train.evalEvery=0',
      'train.evalItemsPerTask=1',
      'train.checkpointEvery=1000000',
      'train.sampleEvery=0',
      `experts.cacheDir=${join(scratch, 'cache')}`,
      ...(standIn ? [`world.dir=${join(scratch, 'world')}`, ...base.world!.models.flatMap((_, i) => [`world.models.${i}.train.steps=1`, `world.models.${i}.train.evalItemsPerTask=1`])] : []),
    ];
    const config = loadConfig(configPath, overrides).config;
    ctx.progress?.(`grpo: ${standIn ? 'building a stand-in world, then ' : ''}${timed + 1} steps at ${configPath} sizes`);
    let peakRss = 0;
    let peakTfBytes = 0;
    const sampleMemory = () => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      peakTfBytes = Math.max(peakTfBytes, tf.memory().numBytes);
    };
    const result = await train({ config, events: { onStep: sampleMemory, onReady: sampleMemory } });
    const steps = readJsonl<StepMetrics>(join(result.summary.runDir, 'metrics.jsonl')).slice(1); // first step = warm-up
    const mean = (k: string) => steps.reduce((a, m) => a + Number(m[k] ?? 0), 0) / steps.length;
    const promptTokens = mean('tokens/prompt');
    const completionTokens = mean('tokens/completion');
    const stepSeconds = mean('time/step');
    const rows: (string | number)[][] = [];
    const records: Record<string, unknown>[] = [];
    for (const p of PHASES) {
      const seconds = mean(p.key);
      const tokens = p.tokens === 'prompt' ? promptTokens : p.tokens === 'completion' ? completionTokens : p.tokens === 'all' ? promptTokens + completionTokens : 0;
      const rate = tokens > 0 && seconds > 0 ? tokens / seconds : undefined;
      rows.push([p.label, round(seconds * 1000, 1), `${round((100 * seconds) / stepSeconds, 0)}%`, rate === undefined ? '-' : round(rate, 0)]);
      records.push({ phase: p.key.slice(5), seconds, share: seconds / stepSeconds, tokens, tokensPerSec: rate });
    }
    rows.push(['step (total)', round(stepSeconds * 1000, 1), '100%', round((promptTokens + completionTokens) / stepSeconds, 0)]);
    const R = config.train.promptsPerStep * config.grpo.groupSize;
    records.push({
      phase: 'step',
      seconds: stepSeconds,
      timedSteps: steps.length,
      rows: R,
      promptTokens,
      completionTokens,
      meanCompletionLength: mean('completions/mean_length'),
      peakRssBytes: peakRss,
      peakTfBytes,
      standInWorld: standIn,
      backend: result.summary.backend,
      policyMode: config.policy.mode,
      routerWidth: config.router.width,
      experts: config.world!.models.filter((m) => m.role === 'expert').length,
    });
    return {
      name: 'grpo',
      title: `GRPO step at ${configPath.split('/').pop()} sizes: ${config.train.promptsPerStep} prompts x G ${config.grpo.groupSize} = ${R} rollouts, maxNewTokens ${config.grpo.maxNewTokens}, policy ${config.policy.mode}, router D ${config.router.width} (${result.summary.backend}; mean of ${steps.length} steps after 1 warm-up)`,
      headers: ['phase', 'ms/step', 'share', 'tokens/s'],
      rows,
      records,
      notes: [
        `${standIn ? 'Stand-in world (quickstart architectures, 1 SFT step each; build it with `musketeers experts build` for real completion lengths)' : 'Quickstart world'}: ` +
          `${round(promptTokens, 0)} prompt tokens (K context tokens included) and ${round(completionTokens, 0)} completion tokens per step (mean completion ${round(mean('completions/mean_length'), 1)} tokens).`,
        'tokens/s: rollout and reward count completion tokens; reference and backward count the distinct prompts\' tokens (each prompt runs once for its group) + every row\'s completion tokens. Experts and update have no token rate.',
        `Peak memory: RSS ${round(peakRss / 2 ** 20, 0)} MiB, tfjs tensors ${round(peakTfBytes / 2 ** 20, 1)} MiB.`,
      ],
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export const section: BenchSectionDef = {
  name: 'grpo',
  order: 40,
  description: 'one GRPO step at the quickstart sizes, per phase (experts, rollout, reward, reference, backward, update), with peak memory',
  run: (ctx) => benchGrpo(ctx),
};
