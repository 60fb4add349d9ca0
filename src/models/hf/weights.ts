// Reading the weights of a Hugging Face checkpoint directory: `model.safetensors`, or shards listed by
// `model.safetensors.index.json` (`weight_map`: tensor name -> shard file), in F32, F16 or BF16, into
// the float32 DecoderWeights the tfjs decoder takes. Buffers that are not weights (rotary `inv_freq`)
// are dropped, a tied `lm_head.weight` saved anyway is dropped, and every missing shard or tensor is an
// error that names the file.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { type DecoderConfig, type DecoderWeights, expectedWeightShapes } from '../decoder-config.js';
import { readSafetensors } from '../safetensors.js';
import { HfModelError, readJsonFile } from './config.js';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

/** The safetensors files of a checkpoint directory and which tensors each holds (undefined: all). */
export function checkpointFiles(dir: string): { file: string; names?: Set<string> }[] {
  const index = join(dir, INDEX_FILE);
  if (existsSync(index)) {
    const json = readJsonFile(index, 'safetensors index');
    const map = json.weight_map;
    if (map === null || typeof map !== 'object' || Array.isArray(map)) throw new HfModelError(`${index} has no "weight_map" object (tensor name -> shard file)`);
    const byFile = new Map<string, Set<string>>();
    for (const [name, file] of Object.entries(map as Record<string, unknown>)) {
      if (typeof file !== 'string') throw new HfModelError(`${index}: weight_map.${name} is not a file name`);
      if (!byFile.has(file)) byFile.set(file, new Set());
      byFile.get(file)!.add(name);
    }
    const missing = [...byFile.keys()].filter((f) => !existsSync(join(dir, f)));
    if (missing.length > 0) {
      throw new HfModelError(
        `missing shard${missing.length > 1 ? 's' : ''} ${missing.map((f) => join(dir, f)).join(', ')} (listed in ${index}); ` +
          'copy every model-XXXXX-of-YYYYY.safetensors file of the checkpoint into the directory',
      );
    }
    return [...byFile].map(([file, names]) => ({ file: join(dir, file), names }));
  }
  const single = join(dir, SINGLE_FILE);
  if (existsSync(single)) return [{ file: single }];
  const present = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.safetensors') || f.endsWith('.bin') || f.endsWith('.pth')) : [];
  throw new HfModelError(
    `${dir}: no ${SINGLE_FILE} and no ${INDEX_FILE}` +
      (present.length > 0 ? ` (found ${present.join(', ')})` : '') +
      '; supported: a Hugging Face checkpoint saved as safetensors, one file or sharded with its index ' +
      '(PyTorch .bin checkpoints must be re-saved with `save_pretrained(..., safe_serialization=True)`)',
  );
}

/** Names that are buffers, not parameters, in some checkpoints. */
const IGNORED = /(^|\.)rotary_emb\.inv_freq$|(^|\.)masked_bias$/;

/** Load and check the decoder weights of `dir` for `config`. */
export function readHfWeights(dir: string, config: DecoderConfig): DecoderWeights {
  const expected = expectedWeightShapes(config);
  const weights: DecoderWeights = new Map();
  const where = new Map<string, string>();
  for (const { file, names } of checkpointFiles(dir)) {
    const { tensors } = readSafetensors(file, { include: (n) => (names === undefined || names.has(n)) && !IGNORED.test(n) });
    for (const [name, t] of tensors) {
      if (names && !names.has(name)) continue;
      if (name === 'lm_head.weight' && config.tieWordEmbeddings) continue; // tied: the embedding is the head
      weights.set(name, t);
      where.set(name, file);
    }
    if (names) {
      const absent = [...names].filter((n) => !tensors.has(n) && !IGNORED.test(n));
      if (absent.length > 0) throw new HfModelError(`${file} lacks ${absent.slice(0, 5).join(', ')}${absent.length > 5 ? ` and ${absent.length - 5} more` : ''}, which ${join(dir, INDEX_FILE)} places there; the shard does not belong to this index`);
    }
  }
  const problems: string[] = [];
  for (const [name, shape] of expected) {
    const w = weights.get(name);
    if (!w) problems.push(`missing ${name} ${JSON.stringify(shape)}`);
    else if (w.shape.join(',') !== shape.join(',')) problems.push(`${name} in ${where.get(name)} has shape ${JSON.stringify(w.shape)}, config.json implies ${JSON.stringify(shape)}`);
  }
  const unexpected = [...weights.keys()].filter((n) => !expected.has(n));
  if (unexpected.length > 0) problems.push(`tensors the ${config.family} decoder has no place for: ${unexpected.slice(0, 5).join(', ')}${unexpected.length > 5 ? ` and ${unexpected.length - 5} more` : ''}`);
  if (problems.length > 0) {
    throw new HfModelError(`${dir}: the weights do not match config.json: ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? `; and ${problems.length - 8} more` : ''}`);
  }
  return weights;
}
