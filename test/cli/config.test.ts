// Config validation: every error names the key path, the file:line:column (or the --set that caused
// it), the offending value and a fix; exit code 2; the resolved config fills every default.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { parse } from 'yaml';

import { loadConfig, parseOverride } from '../../src/config.js';
import { configReferenceMarkdown } from '../../src/config-reference.js';
import { ConfigError } from '../../src/errors.js';
import { REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';

function writeConfig(text: string): string {
  const file = join(tempDir(), 'config.yaml');
  writeFileSync(file, text);
  return file;
}

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ConfigError');
}

const VALID = `name: t
seed: 3
data:
  tasks:
    - name: chain_sum
      config: { max_terms: 3 }
`;

test('bundled configs are valid', () => {
  for (const name of ['quickstart.yaml', 'smoke.yaml']) {
    const { config } = loadConfig(join(REPO_ROOT, 'configs', name));
    assert.ok(config.data.tasks.length > 0);
  }
});

test('resolved config fills defaults, including every task parameter', () => {
  const { config } = loadConfig(writeConfig(VALID));
  assert.equal(config.outputDir, 'runs');
  assert.equal(config.data.evalSize, 200);
  assert.equal(config.data.prompt.answerTag, 'answer');
  const task = config.data.tasks[0];
  assert.equal(task.weight, 1);
  assert.equal(task.config.max_terms, 3);
  assert.equal(task.config.min_terms, 2); // Reasoning Gym default
  assert.equal(task.config.seed, 3 + 0 + 1); // composite rule: seed + k + 1
});

test('unknown key: path, line, suggestion', () => {
  const file = writeConfig(`${VALID}seeed: 4\n`);
  const err = configErrorOf(() => loadConfig(file));
  assert.equal(err.exitCode, 2);
  assert.equal(err.issues.length, 1);
  const issue = err.issues[0];
  assert.equal(issue.path, 'seeed');
  assert.equal(issue.source, `${file}:7:1`);
  assert.match(issue.message, /unknown key 'seeed'; did you mean 'seed'\?/);
});

test('wrong type names the value and the line', () => {
  const file = writeConfig(VALID.replace('seed: 3', 'seed: three'));
  const err = configErrorOf(() => loadConfig(file));
  assert.equal(err.issues[0].path, 'seed');
  assert.equal(err.issues[0].source, `${file}:2:7`);
  assert.equal(err.issues[0].value, '"three"');
  assert.match(err.issues[0].message, /expected number/);
});

test('task config errors are checked by the task schema, with the nested path', () => {
  const file = writeConfig(VALID.replace('{ max_terms: 3 }', '{ max_terms: 3, min_terms: 5, colour: red }'));
  const err = configErrorOf(() => loadConfig(file));
  const paths = err.issues.map((i) => i.path).sort();
  assert.deepEqual(paths, ['data.tasks.0.config.colour', 'data.tasks.0.config.max_terms']);
  const colour = err.issues.find((i) => i.path.endsWith('colour'))!;
  assert.match(colour.message, /allowed keys here: .*min_terms/);
  assert.match(String(colour.source), /config\.yaml:6:\d+/);
});

test('unknown task suggests the closest name', () => {
  const err = configErrorOf(() => loadConfig(writeConfig(VALID.replace('chain_sum', 'chain_sums'))));
  assert.equal(err.issues[0].path, 'data.tasks.0.name');
  assert.match(err.issues[0].message, /Did you mean 'chain_sum'/);
});

test('impossible combinations: duplicate tasks, template without {question}', () => {
  const text = `${VALID}    - name: chain_sum\n  prompt:\n    template: "Solve it"\n`;
  const err = configErrorOf(() => loadConfig(writeConfig(text)));
  const messages = err.issues.map((i) => `${i.path}: ${i.message}`).join('\n');
  assert.match(messages, /data\.tasks\.1\.name: task 'chain_sum' is listed twice/);
  assert.match(messages, /data\.prompt\.template: .*include \{question\}/);
});

test('--set overrides are typed and validated like the file', () => {
  const file = writeConfig(VALID);
  const { config } = loadConfig(file, ['data.trainSize=50', 'data.tasks.0.weight=2.5', 'name=other']);
  assert.equal(config.data.trainSize, 50);
  assert.equal(config.data.tasks[0].weight, 2.5);
  assert.equal(config.name, 'other');
  const err = configErrorOf(() => loadConfig(file, ['data.trainSize=-1']));
  assert.equal(err.issues[0].source, '--set data.trainSize=-1');
  assert.equal(err.issues[0].path, 'data.trainSize');
  const bad = configErrorOf(() => loadConfig(file, ['data.trainsize=5']));
  assert.match(bad.issues[0].message, /did you mean 'trainSize'/);
  assert.equal(bad.issues[0].source, '--set data.trainsize=5');
  assert.deepEqual(parseOverride('a.0.b=[1, 2]'), { path: ['a', 0, 'b'], value: [1, 2], text: 'a.0.b=[1, 2]' });
  assert.throws(() => parseOverride('novalue'), ConfigError);
});

test('YAML syntax errors and missing files name the location', () => {
  const file = writeConfig('name: x\ndata: [unclosed\n');
  const err = configErrorOf(() => loadConfig(file));
  assert.match(String(err.issues[0].source), new RegExp(`${file.replace(/[.]/g, '\\.')}:\\d+:\\d+`));
  assert.match(err.issues[0].message, /YAML syntax error/);
  const missing = configErrorOf(() => loadConfig('/nonexistent/c.yaml'));
  assert.match(missing.message, /config file not found/);
});

test('config show prints the resolved YAML; errors exit 2 and write nothing to stdout', async () => {
  const file = writeConfig(VALID);
  const ok = await runCli('config', 'show', file, '--set', 'seed=9');
  assert.equal(ok.code, 0);
  const shown = parse(ok.stdout) as { seed: number; data: { tasks: { config: { min_terms: number } }[] } };
  assert.equal(shown.seed, 9);
  assert.equal(shown.data.tasks[0].config.min_terms, 2);
  const bad = await runCli('config', 'show', file, '--set', 'seed=-3');
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, '');
  assert.match(bad.message, /seed \(--set seed=-3\): .*>=0|seed \(--set seed=-3\)/);
});

test('config reference covers every key and the README embeds the current one', async () => {
  const md = configReferenceMarkdown();
  for (const key of ['name', 'seed', 'data.tasks', 'data.tasks[].weight', 'data.prompt.answerTag', 'data.gsm8k.path']) {
    assert.ok(md.includes(`\`${key}\``), `reference lacks ${key}`);
  }
  const { readFileSync } = await import('node:fs');
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  assert.ok(readme.includes(md), 'README.md config reference is stale: paste the output of `musketeers config reference`');
});

test('world: mixtures must come from data.tasks, one policy, valid architectures', () => {
  const smoke = join(REPO_ROOT, 'configs', 'smoke.yaml');
  const err = configErrorOf(() =>
    loadConfig(smoke, ['world.models.0.tasks.0.name=gcd', 'world.models.2.role=expert', 'world.models.1.architecture.numKvHeads=3', 'world.models.1.name=expert-a']),
  );
  const text = err.issues.map((i) => `${i.path} (${i.source}): ${i.message}`).join('\n');
  assert.match(text, /world\.models\.0\.tasks\.0\.name \(--set world\.models\.0\.tasks\.0\.name=gcd\): task 'gcd' is not in data\.tasks/);
  assert.match(text, /world\.models \(.*smoke\.yaml:\d+:\d+, changed by .*--set world\.models\.2\.role=expert.*\): the world needs exactly one model with role: policy \(found 0\)/);
  assert.match(text, /world\.models\.1\.architecture .*numHeads \(2\) must be a multiple of numKvHeads \(3\)/);
  assert.match(text, /world\.models\.1\.name .*model name 'expert-a' is used twice/);
});

test('oracle experts: validated names, refused by text-concat; configs/oracle.yaml loads with them selected', () => {
  const oracleYaml = join(REPO_ROOT, 'configs', 'oracle.yaml');
  const { config } = loadConfig(oracleYaml);
  assert.deepEqual(config.experts.models, ['oracle-tokens']);
  assert.deepEqual(config.experts.oracle.map((o) => [o.name, o.encoding]), [['oracle-tokens', 'tokens'], ['oracle-answer', 'answer']]);
  assert.equal(config.router.warmup.steps, 300);
  const clash = configErrorOf(() => loadConfig(oracleYaml, ['experts.oracle=[{name: expert-sums}]']));
  assert.match(clash.issues.map((i) => i.message).join('\n'), /expert name 'expert-sums' is already used \(a world model\)/);
  const unknown = configErrorOf(() => loadConfig(oracleYaml, ['experts.models=[oracle-nope]']));
  assert.match(unknown.issues[0].message, /no world expert, experts.onnx or experts.oracle entry is named 'oracle-nope'/);
  const bad = configErrorOf(() => loadConfig(oracleYaml, ['experts.oracle=[{name: o, corrupt: 1.5}]']));
  assert.equal(bad.issues[0].path, 'experts.oracle.0.corrupt');
});
