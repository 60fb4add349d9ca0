// Training checkpoints: router weights, trainable policy weights (LoRA adapters or all weights), Adam
// moments, and the loop's counters, in `checkpoints/step_NNNNNN/` (tensors.safetensors + state.json).
// A checkpoint is written into a temporary directory, fsynced, then renamed into place, and state.json
// records the SHA-256 of the tensors file: a crash mid-write leaves no directory that loads as valid,
// and a damaged one is detected and skipped in favour of the previous checkpoint.

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

import { sha256 } from '../experts/cache.js';
import type { NamedTensor } from '../models/decoder-config.js';
import type { AdamState } from '../models/optim.js';
import { decodeSafetensors, encodeSafetensors } from '../models/safetensors.js';
import { VERSION } from '../version.js';
import { stepName } from './run-dir.js';

const FORMAT = 1;

/** Counters of the loop that a resumed run must continue from. */
export interface LoopState {
  /** Consecutive skipped (non-finite) steps at the checkpoint. */
  badSteps: number;
  /** Skipped steps so far. */
  skippedSteps: number;
  /** Training prompts consumed so far (the data position). */
  promptsSeen: number;
}

export interface TrainCheckpoint {
  step: number;
  router: Map<string, NamedTensor>;
  /** LoRA adapters (PEFT names) or all policy weights (HF names), depending on the policy mode. */
  policy: Map<string, NamedTensor>;
  optimizer: AdamState;
  loop: LoopState;
  /** Hash of the resolved config the run was started with. */
  configHash: string;
}

interface StateFile {
  format: number;
  step: number;
  adamStep: number;
  configHash: string;
  loop: LoopState;
  tensorsSha256: string;
  tensorsBytes: number;
  packageVersion: string;
  createdAt: string;
}

export class CheckpointError extends Error {}

function writeSynced(path: string, data: Uint8Array | string): void {
  const fd = openSync(path, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* some file systems cannot fsync a directory; the rename is still atomic */
  }
}

/** Write a checkpoint atomically; returns its directory. Older checkpoints beyond `keep` are deleted. */
export function saveCheckpoint(checkpointsDir: string, ckpt: TrainCheckpoint, keep: number): string {
  mkdirSync(checkpointsDir, { recursive: true });
  const tensors = new Map<string, NamedTensor>();
  for (const [n, t] of ckpt.router) tensors.set(`router/${n}`, t);
  for (const [n, t] of ckpt.policy) tensors.set(`policy/${n}`, t);
  for (const [n, t] of ckpt.optimizer.m) tensors.set(`adam_m/${n}`, t);
  for (const [n, t] of ckpt.optimizer.v) tensors.set(`adam_v/${n}`, t);
  const bytes = encodeSafetensors(tensors, { format: 'musketeers-checkpoint' });
  const state: StateFile = {
    format: FORMAT,
    step: ckpt.step,
    adamStep: ckpt.optimizer.step,
    configHash: ckpt.configHash,
    loop: ckpt.loop,
    tensorsSha256: sha256(bytes),
    tensorsBytes: bytes.length,
    packageVersion: VERSION,
    createdAt: new Date().toISOString(),
  };
  const final = join(checkpointsDir, stepName(ckpt.step));
  const tmp = join(checkpointsDir, `.tmp-${stepName(ckpt.step)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(tmp);
  try {
    writeSynced(join(tmp, 'tensors.safetensors'), bytes);
    writeSynced(join(tmp, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
    fsyncDir(tmp);
    if (existsSync(final)) {
      const old = `${final}.old-${randomBytes(4).toString('hex')}`;
      renameSync(final, old);
      renameSync(tmp, final);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, final);
    }
    fsyncDir(checkpointsDir);
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
  for (const step of listCheckpointSteps(checkpointsDir).slice(0, -keep)) rmSync(join(checkpointsDir, stepName(step)), { recursive: true, force: true });
  return final;
}

/** Steps of the checkpoint directories present (complete or not), ascending. Temporary directories are ignored. */
export function listCheckpointSteps(checkpointsDir: string): number[] {
  if (!existsSync(checkpointsDir)) return [];
  return readdirSync(checkpointsDir)
    .map((f) => /^step_(\d{6,})$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** Load and verify one checkpoint directory; throws CheckpointError saying what is wrong. */
export function loadCheckpoint(dir: string): TrainCheckpoint {
  const stateFile = join(dir, 'state.json');
  const tensorsFile = join(dir, 'tensors.safetensors');
  if (!existsSync(stateFile) || !existsSync(tensorsFile)) throw new CheckpointError(`${dir}: incomplete checkpoint (state.json and tensors.safetensors are both needed)`);
  let state: StateFile;
  try {
    state = JSON.parse(readFileSync(stateFile, 'utf8')) as StateFile;
  } catch (error) {
    throw new CheckpointError(`${stateFile}: not valid JSON (${(error as Error).message})`);
  }
  if (state.format !== FORMAT) throw new CheckpointError(`${stateFile}: checkpoint format ${state.format}, this musketeers reads format ${FORMAT}`);
  const bytes = new Uint8Array(readFileSync(tensorsFile));
  if (bytes.length !== state.tensorsBytes || sha256(bytes) !== state.tensorsSha256) {
    throw new CheckpointError(`${tensorsFile}: checksum mismatch (${bytes.length} bytes, expected ${state.tensorsBytes}); the file is damaged`);
  }
  const { tensors } = decodeSafetensors(bytes, tensorsFile);
  const pick = (prefix: string) => new Map([...tensors].filter(([n]) => n.startsWith(prefix)).map(([n, t]) => [n.slice(prefix.length), t] as const));
  return {
    step: state.step,
    router: pick('router/'),
    policy: pick('policy/'),
    optimizer: { step: state.adamStep, m: pick('adam_m/'), v: pick('adam_v/') },
    loop: state.loop,
    configHash: state.configHash,
  };
}

/** The newest checkpoint that loads; damaged newer ones are reported through `warn` and skipped. */
export function latestCheckpoint(checkpointsDir: string, warn: (message: string) => void = () => {}): { dir: string; checkpoint: TrainCheckpoint } | undefined {
  const steps = listCheckpointSteps(checkpointsDir);
  for (let i = steps.length - 1; i >= 0; i--) {
    const dir = join(checkpointsDir, stepName(steps[i]));
    try {
      return { dir, checkpoint: loadCheckpoint(dir) };
    } catch (error) {
      if (!(error instanceof CheckpointError)) throw error;
      warn(`skipping damaged checkpoint: ${error.message}`);
    }
  }
  return undefined;
}
