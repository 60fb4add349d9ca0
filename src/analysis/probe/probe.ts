// `musketeers probe`: information probes over the pipeline. For every task of the config's data mix a
// linear probe (ridge classifier, penalty chosen by k-fold CV on training items) is fitted on training-
// split items and scored on held-out items, from (i) each expert's pooled state at each layer and pooling
// asked — information *available* to the router; (ii) the router's context tokens — information
// *carried* to the policy; (iii) the policy's last prompt-position state with and without the context
// tokens — information the policy *uses* (holds where its output is computed). Beside them: the
// majority-class rate and the policy's actual held-out accuracy.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { TaskRegistry } from '../../../tasks/registry.js';
import type { TaskEntry } from '../../../tasks/types.js';
import type { MusketeersConfig } from '../../config.js';
import type { Pooling } from '../../experts/pooling.js';
import { selectBackend, type BackendRequest } from '../../models/backend.js';
import { loadPolicyFiles, loadPolicyTokenizer } from '../../rl/setup.js';
import { heldOutItems } from '../../rl/trainer.js';
import { runPaths } from '../../rl/run-dir.js';
import { splitData } from '../../world/data.js';
import { referenceAnswer } from '../../world/format.js';
import { evaluatePolicy, type ResolvedCheckpoint } from '../evaluate.js';
import { classSet, encodeLabels, labelOf, majorityRate, type ProbeTarget } from './classes.js';
import { expertFeatures, policyFeatures, type ProgressFn } from './features.js';
import { DEFAULT_LAMBDAS, fitProbe, takeRows, type Matrix } from './ridge.js';

export interface ProbeSpec {
  config: MusketeersConfig;
  /** The config file or run directory the probe was asked for (recorded). */
  source: string;
  checkpoint?: ResolvedCheckpoint;
  /** Tasks of data.tasks to probe (all when empty). */
  tasks: string[];
  /** Expert layers and poolings (cartesian product); `fromFlags` says whether they came from --layer/--pool. */
  layers: number[];
  poolings: Pooling[];
  fromFlags: boolean;
  target: ProbeTarget;
  /** Top-N classes per task. */
  classes: number;
  /** Training-split items per task the probes are fitted on. */
  trainItems: number;
  /** Held-out items per task the probes are scored on. */
  heldOutItems: number;
  folds: number;
  registry: TaskRegistry;
  progress?: ProgressFn;
  warn?: (m: string) => void;
  info?: (m: string) => void;
}

export type ProbeKind = 'expert' | 'router' | 'policy';

export interface ProbeScore {
  kind: ProbeKind;
  /** Row label, e.g. `expert-sums L-1 last`, `router context`, `policy + context`, `policy, no context`. */
  label: string;
  expert?: string;
  layer?: number;
  pooling?: Pooling;
  /** policy rows: whether the context tokens were prepended. */
  context?: boolean;
  features: number;
  /** Held-out accuracy of the probe. */
  accuracy: number;
  cvAccuracy: number;
  trainAccuracy: number;
  lambda: number;
}

export interface TaskProbe {
  task: string;
  /** Items drawn (before dropping labels outside the class set). */
  trainItems: number;
  heldOutItems: number;
  /** Items whose label is in the class set. */
  keptTrain: number;
  keptHeldOut: number;
  classes: string[];
  /** Held-out rate of the training majority class (classes[0]), over the kept held-out items. */
  majorityRate: number;
  /** Why the task was not probed (fewer than 2 classes, no kept held-out item). */
  skipped?: string;
  probes: ProbeScore[];
}

export interface PolicyAccuracy {
  /** Where the numbers come from. */
  source: string;
  step?: number;
  /** Held-out accuracy per task (null where the source has none). */
  tasks: Record<string, { accuracy: number; items: number } | null>;
}

export interface ProbeReport {
  source: string;
  name: string;
  method: string;
  checkpoint?: { dir: string; step: number };
  target: ProbeTarget;
  topClasses: number;
  folds: number;
  lambdas: number[];
  experts: { layers: number[]; poolings: Pooling[]; names: string[] };
  tasks: TaskProbe[];
  policyAccuracy: PolicyAccuracy;
  definitions: Record<string, string>;
  seconds: number;
}

export const PROBE_DEFINITIONS: Record<string, string> = {
  probe: 'A multi-class ridge classifier (one-hot targets, features standardised on the training rows) fitted on training-split items of the task and scored on held-out items; accuracy = fraction of kept held-out items whose class it predicts.',
  classes: 'The N most frequent labels (the whole answer, or with target first-token the first policy token of the answer) among the training items; items with another label are dropped from both splits (no "other" class); keptTrain / keptHeldOut count the rest.',
  majorityRate: 'Held-out rate of the most frequent training label: what a probe that ignores its features scores.',
  lambda: 'The ridge penalty, chosen among `lambdas` by k-fold cross-validation on the training items only (ties: the larger penalty); held-out items never enter the choice.',
  available: 'kind expert: the pooled hidden state of an expert at a layer and pooling — information the router could read.',
  carried: 'kind router: the router\'s K context tokens, flattened — information that reaches the policy.',
  used: 'kind policy: the policy\'s final hidden state (what its LM head reads) at the last prompt position, with the context tokens prepended (context true) and without them (context false).',
  policyAccuracy: 'The policy\'s own held-out accuracy: from the run\'s eval/step_NNNNNN.json (the trainer\'s greedy evaluation), or from a greedy evaluation of the policy on the probe\'s held-out items when there is none.',
};

interface ProbeData {
  tasks: { task: string; train: TaskEntry[]; heldOut: TaskEntry[]; offset: number }[];
  entries: TaskEntry[];
}

/** Training-split and held-out items per task, in split order, flattened into one list of entries. */
export function probeItems(config: MusketeersConfig, registry: TaskRegistry, tasks: readonly string[], trainPerTask: number, heldOutPerTask: number): ProbeData {
  const { dataset, split } = splitData(config, registry);
  const train = heldOutItems(dataset, split.train, tasks, trainPerTask);
  const heldOut = heldOutItems(dataset, split.eval, tasks, heldOutPerTask);
  const entries: TaskEntry[] = [];
  const out = tasks.map((task) => {
    const t = { task, train: train.get(task) ?? [], heldOut: heldOut.get(task) ?? [], offset: entries.length };
    entries.push(...t.train, ...t.heldOut);
    return t;
  });
  return { tasks: out, entries };
}

/** A probe row's identity (as its score reports it) and its features. */
type FeatureSource = Pick<ProbeScore, 'kind' | 'label' | 'expert' | 'layer' | 'pooling' | 'context'> & { x: Matrix };

/** Every feature source over all probe entries: experts at each layer/pooling, then router and policy. */
async function collectFeatures(spec: ProbeSpec, entries: TaskEntry[]): Promise<{ sources: FeatureSource[]; experts: string[] }> {
  const sources: FeatureSource[] = [];
  const experts = new Set<string>();
  for (const layer of spec.layers) {
    for (const pooling of spec.poolings) {
      const byExpert = await expertFeatures(spec.config, entries, { layer, pooling, fromFlag: spec.fromFlags }, { progress: spec.progress, warn: spec.warn });
      for (const [expert, x] of byExpert) {
        experts.add(expert);
        sources.push({ kind: 'expert', label: `${expert} L${layer} ${pooling}`, expert, layer, pooling, x });
      }
    }
  }
  const policy = await policyFeatures(spec.config, entries, spec.checkpoint?.checkpoint, { progress: spec.progress, warn: spec.warn });
  if (policy.router) sources.push({ kind: 'router', label: 'router context', x: policy.router });
  if (policy.withContext) sources.push({ kind: 'policy', label: 'policy + context', context: true, x: policy.withContext });
  sources.push({ kind: 'policy', label: 'policy, no context', context: false, x: policy.withoutContext });
  return { sources, experts: [...experts] };
}

/** One task's probes over every source. */
function probeTask(spec: ProbeSpec, t: ProbeData['tasks'][number], labelFn: (answer: string) => string, sources: readonly FeatureSource[]): TaskProbe {
  const trainLabels = t.train.map((e) => labelFn(referenceAnswer(e)));
  const heldLabels = t.heldOut.map((e) => labelFn(referenceAnswer(e)));
  const set = classSet(trainLabels, spec.classes);
  const train = encodeLabels(trainLabels, set);
  const held = encodeLabels(heldLabels, set);
  const base: TaskProbe = { task: t.task, trainItems: t.train.length, heldOutItems: t.heldOut.length, keptTrain: train.kept.length, keptHeldOut: held.kept.length, classes: set.classes, majorityRate: majorityRate(held.y), probes: [] };
  if (set.classes.length < 2) return { ...base, skipped: `fewer than 2 classes among ${t.train.length} training items` };
  if (held.kept.length === 0) return { ...base, skipped: 'no held-out item has a label of the class set' };
  const trainRows = train.kept.map((i) => t.offset + i);
  const heldRows = held.kept.map((i) => t.offset + t.train.length + i);
  const probes = sources.map((s): ProbeScore => {
    const fit = fitProbe({ x: takeRows(s.x, trainRows), y: train.y }, { x: takeRows(s.x, heldRows), y: held.y }, set.classes.length, { folds: spec.folds, seed: spec.config.seed });
    const { x: _x, ...meta } = s;
    return { ...meta, features: s.x.cols, accuracy: fit.accuracy, cvAccuracy: fit.cvAccuracy, trainAccuracy: fit.trainAccuracy, lambda: fit.lambda };
  });
  return { ...base, probes };
}

/** The trainer's evaluation at the checkpoint's step (else the newest one) in RUN_DIR/eval, if any. */
function runEvalAccuracy(checkpoint: ResolvedCheckpoint): PolicyAccuracy | undefined {
  const dir = runPaths(checkpoint.runDir).eval;
  if (!existsSync(dir)) return undefined;
  const steps = readdirSync(dir).map((f) => /^step_(\d{6})\.json$/.exec(f)).filter((m) => m !== null).map((m) => Number(m[1])).sort((a, b) => a - b);
  if (steps.length === 0) return undefined;
  const step = steps.includes(checkpoint.step) ? checkpoint.step : steps[steps.length - 1];
  const file = join(dir, `step_${String(step).padStart(6, '0')}.json`);
  const report = JSON.parse(readFileSync(file, 'utf8')) as { tasks?: Record<string, { accuracy: number; items: number }> };
  const tasks = Object.fromEntries(Object.entries(report.tasks ?? {}).map(([t, r]) => [t, { accuracy: r.accuracy, items: r.items }]));
  return { source: `${file} (the trainer's greedy evaluation at step ${step})`, step, tasks };
}

/** The policy's held-out accuracy: the run's eval file when there is one, else a greedy evaluation on the probe's held-out items. */
async function policyAccuracy(spec: ProbeSpec, data: ProbeData): Promise<PolicyAccuracy> {
  const fromRun = spec.checkpoint ? runEvalAccuracy(spec.checkpoint) : undefined;
  if (fromRun) return fromRun;
  spec.info?.('no evaluation file: evaluating the policy greedily on the probe\'s held-out items');
  const items = new Map(data.tasks.map((t) => [t.task, t.heldOut]));
  const result = await evaluatePolicy({ config: spec.config, items, checkpoint: spec.checkpoint, samples: 1, greedy: true, gsm8kMode: 'strict', registry: spec.registry, warn: spec.warn });
  const what = spec.checkpoint ? `the checkpoint at step ${spec.checkpoint.step}` : 'the starting policy';
  return { source: `greedy evaluation of ${what} on the probe's held-out items`, step: spec.checkpoint?.step, tasks: Object.fromEntries(result.tasks.map((t) => [t.task, { accuracy: t.accuracy, items: t.items }])) };
}

/** The first policy token of a text, decoded. */
function firstTokenOf(config: MusketeersConfig): (text: string) => string {
  const tokenizer = loadPolicyTokenizer(loadPolicyFiles(config));
  return (text) => {
    const ids = tokenizer.encode(text);
    return ids.length === 0 ? '' : tokenizer.decode([ids[0]]);
  };
}

/** Run every probe of the spec; models are opened, used and disposed inside. */
export async function runProbes(spec: ProbeSpec): Promise<ProbeReport> {
  const started = performance.now();
  const { config } = spec;
  const tasks = spec.tasks.length > 0 ? spec.tasks : config.data.tasks.map((t) => t.name);
  await selectBackend(config.train.backend as BackendRequest);
  const data = probeItems(config, spec.registry, tasks, spec.trainItems, spec.heldOutItems);
  const { sources, experts } = await collectFeatures(spec, data.entries);
  const firstToken = spec.target === 'first-token' ? firstTokenOf(config) : () => '';
  const results = data.tasks.map((t) => probeTask(spec, t, (answer) => labelOf(answer, spec.target, firstToken), sources));
  const accuracy = await policyAccuracy(spec, data);
  return {
    source: spec.source,
    name: config.name,
    method: config.method,
    checkpoint: spec.checkpoint ? { dir: spec.checkpoint.dir, step: spec.checkpoint.step } : undefined,
    target: spec.target,
    topClasses: spec.classes,
    folds: spec.folds,
    lambdas: [...DEFAULT_LAMBDAS],
    experts: { layers: spec.layers, poolings: spec.poolings, names: experts },
    tasks: results,
    policyAccuracy: accuracy,
    definitions: PROBE_DEFINITIONS,
    seconds: (performance.now() - started) / 1000,
  };
}
