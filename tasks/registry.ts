// A registry of tasks by name. Registering a name twice is an error (as in Reasoning Gym);
// looking up an unknown name suggests the closest registered names.

import type { AnyTaskDefinition, TaskCategory } from './types.js';

export class UnknownTaskError extends Error {
  constructor(
    readonly taskName: string,
    readonly suggestions: string[],
    readonly known: string[],
  ) {
    const hint = suggestions.length > 0 ? ` Did you mean ${suggestions.map((s) => `'${s}'`).join(' or ')}?` : '';
    super(`unknown task '${taskName}'.${hint} Run 'musketeers tasks list' to see the ${known.length} registered tasks.`);
    this.name = 'UnknownTaskError';
  }
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

export class TaskRegistry {
  private readonly tasks = new Map<string, AnyTaskDefinition>();

  register(task: AnyTaskDefinition): void {
    if (!/^[a-z][a-z0-9_]*$/.test(task.name)) {
      throw new Error(`task name '${task.name}' must be snake_case (lower-case letters, digits, underscores)`);
    }
    if (this.tasks.has(task.name)) throw new Error(`task '${task.name}' is already registered`);
    this.tasks.set(task.name, task);
  }

  has(name: string): boolean {
    return this.tasks.has(name);
  }

  get(name: string): AnyTaskDefinition {
    const task = this.tasks.get(name);
    if (task) return task;
    const known = this.names();
    const ranked = known
      .map((k) => ({ k, d: editDistance(name, k) }))
      .filter(({ k, d }) => d <= Math.max(2, Math.floor(k.length / 3)) || k.includes(name))
      .sort((x, y) => x.d - y.d)
      .slice(0, 2)
      .map(({ k }) => k);
    throw new UnknownTaskError(name, ranked, known);
  }

  names(): string[] {
    return [...this.tasks.keys()].sort();
  }

  list(category?: TaskCategory): AnyTaskDefinition[] {
    return this.names()
      .map((n) => this.tasks.get(n)!)
      .filter((t) => category === undefined || t.category === category);
  }
}
