// Synthetic run directories in the DESIGN.md layout, for tests and demos: config.yaml, metrics.jsonl,
// eval/step_NNNNNN.json. Reward rises and routing entropy falls over training, with seeded noise.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SyntheticRunOptions {
  name?: string;
  seed?: number;
  method?: string;
  steps?: number;
  tasks?: string[];
  experts?: string[];
  /** Steps between eval reports (step 0 is always written); 0 for none. */
  evalEvery?: number;
}

export function writeSyntheticRun(dir: string, o: SyntheticRunOptions = {}): string {
  const name = o.name ?? 'synthetic';
  const seed = o.seed ?? 1;
  const method = o.method;
  const steps = o.steps ?? 40;
  const tasks = o.tasks ?? ['chain_sum', 'basic_arithmetic', 'propositional_logic'];
  const router = method !== 'no-experts';
  const experts = router ? (o.experts ?? ['expert-sums', 'expert-logic', 'expert-words']) : [];
  const evalEvery = o.evalEvery ?? 10;
  let state = seed * 7919 + 17;
  const rnd = () => ((state = (state * 48271) % 2147483647) / 2147483647);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.yaml'), `name: ${name}\nseed: ${seed}\n${method ? `method: ${method}\n` : ''}outputDir: runs\ndata:\n  tasks:\n${tasks.map((t) => `    - name: ${t}\n`).join('')}`);
  // Each task prefers one expert more and more over training (task i -> expert i mod E).
  const massAt = (ti: number, p: number): number[] => {
    const raw = experts.map((_, e) => 1 + (e === ti % experts.length ? 3 * p : 0) + 0.3 * rnd());
    const s = raw.reduce((a, b) => a + b, 0);
    return raw.map((v) => v / s);
  };
  const entropy = (m: number[]) => -m.reduce((a, v) => a + (v > 0 ? v * Math.log(v) : 0), 0);
  const lines: string[] = [];
  for (let step = 1; step <= steps; step++) {
    const p = step / steps;
    const row: Record<string, number | boolean> = { step };
    const seen = tasks.filter((_, i) => (step + i) % 3 !== 0 || tasks.length < 3);
    const rewards: number[] = [];
    const ents: number[] = [];
    const overallMass = experts.map(() => 0);
    for (const t of seen) {
      const ti = tasks.indexOf(t);
      const r = Math.min(1, Math.max(0, 0.2 + 0.1 * ti + 0.5 * p + (rnd() - 0.5) * 0.25));
      row[`reward/${t}`] = r;
      row[`accuracy/${t}`] = Math.round(r * 8) / 8;
      rewards.push(r);
      if (router) {
        const m = massAt(ti, p);
        m.forEach((v, e) => {
          row[`router/expert_mass/${t}/${experts[e]}`] = v;
          overallMass[e] += v / seen.length;
        });
        const h = entropy(m);
        row[`router/entropy/${t}`] = h;
        ents.push(h);
      }
    }
    const reward = rewards.reduce((a, b) => a + b, 0) / rewards.length;
    Object.assign(row, {
      reward,
      reward_std: 0.2,
      frac_reward_zero_std: 0.1,
      accuracy: Math.round(reward * 32) / 32,
      kl: 0.001 * step,
      clip_ratio: 0,
      entropy: 1.2,
      loss: 0.01,
      'completions/mean_length': 20,
      grad_norm: 0.5,
      learning_rate: 1e-4,
      'time/rollout': 1,
      'time/reward': 0.01,
      'time/backward': 0.5,
      'time/update': 0.01,
      'time/step': 1.6,
      skipped: false,
    });
    if (router) {
      row['router/entropy'] = ents.reduce((a, b) => a + b, 0) / ents.length;
      overallMass.forEach((v, e) => (row[`router/expert_mass/${experts[e]}`] = v));
    }
    lines.push(JSON.stringify(row));
  }
  writeFileSync(join(dir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
  if (evalEvery > 0) {
    mkdirSync(join(dir, 'eval'), { recursive: true });
    for (let step = 0; step <= steps; step += evalEvery) {
      const p = step / steps;
      const taskReports: Record<string, unknown> = {};
      let acc = 0;
      const overall = experts.map(() => 0);
      tasks.forEach((t, ti) => {
        const a = Math.min(1, 0.15 + 0.1 * ti + 0.5 * p + (rnd() - 0.5) * 0.1);
        acc += a / tasks.length;
        const m = massAt(ti, p);
        m.forEach((v, e) => (overall[e] += v / tasks.length));
        taskReports[t] = { items: 50, accuracy: a, meanScore: a, ...(router ? { expertMass: Object.fromEntries(experts.map((x, e) => [x, m[e]])) } : {}) };
      });
      const report = {
        step,
        accuracy: acc,
        meanScore: acc,
        tasks: taskReports,
        ...(router ? { expertMass: Object.fromEntries(experts.map((x, e) => [x, overall[e]])), routerEntropy: entropy(overall) } : {}),
      };
      writeFileSync(join(dir, 'eval', `step_${String(step).padStart(6, '0')}.json`), JSON.stringify(report, null, 2));
    }
  }
  return dir;
}
