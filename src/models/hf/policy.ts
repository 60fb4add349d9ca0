// A policy from a local Hugging Face checkpoint directory (`config.json`, `*.safetensors` one file or
// sharded, `tokenizer.json`, `tokenizer_config.json`): architecture, float32 weights checked against
// it, and the tokenizer checked against the embedding. What the trainer turns into the tfjs decoder
// (LoRA on top) exactly as it does for the tiny world's policy.

import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { DecoderConfig, DecoderWeights } from '../decoder-config.js';
import { loadTokenizer } from '../tokenizer/hf.js';
import type { TextTokenizer } from '../tokenizer/types.js';
import { HfModelError, readHfConfig } from './config.js';
import { readHfWeights } from './weights.js';

export interface HfCheckpoint {
  dir: string;
  architecture: DecoderConfig;
  weights: DecoderWeights;
}

/** Whether `dir` looks like a Hugging Face checkpoint directory (it has a config.json). */
export function isHfModelDir(dir: string): boolean {
  return existsSync(join(dir, 'config.json')) && statSync(dir).isDirectory();
}

/** Read config.json and the safetensors weights of `dir`; every error names the file. */
export function readHfCheckpoint(path: string): HfCheckpoint {
  const dir = resolve(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new HfModelError(`${dir} is not a directory; give the local directory of a Hugging Face checkpoint (config.json, model.safetensors or shards, tokenizer.json)`);
  }
  const architecture = readHfConfig(dir);
  return { dir, architecture, weights: readHfWeights(dir, architecture) };
}

/** The checkpoint's tokenizer, checked against its embedding (more ids than rows means another model's tokenizer). */
export function readHfTokenizer(checkpoint: Pick<HfCheckpoint, 'dir' | 'architecture'>, name: string): TextTokenizer {
  const tokenizer = loadTokenizer(checkpoint.dir, { name });
  if (tokenizer.vocabSize > checkpoint.architecture.vocabSize) {
    throw new HfModelError(
      `${join(checkpoint.dir, 'tokenizer.json')} has ${tokenizer.vocabSize} ids but ${join(checkpoint.dir, 'config.json')} gives vocab_size ${checkpoint.architecture.vocabSize}: ` +
        'the tokenizer belongs to another model; copy the checkpoint\'s own tokenizer.json and tokenizer_config.json',
    );
  }
  return tokenizer;
}
