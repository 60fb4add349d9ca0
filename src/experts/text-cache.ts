// On-disk cache of expert texts (greedy generations, method text-concat), keyed by (model file hash,
// tokenizer hash, generation settings, prompt hash). Like the hidden-state cache (./cache.ts), each entry
// is one file written atomically with a header and a SHA-256 of its payload, so a corrupt or truncated
// entry is detected, reported, deleted and recomputed, never used.
//
// Entry layout (little endian): "MKTX" | version u32 | payloadBytes u32 | sha256(payload) 32 bytes |
// payload (UTF-8 JSON: {"text": string, "tokens": int[], "finishReason": "eos"|"stop"|"length", "promptTokens": int}).

import { createHash } from 'node:crypto';
import type { FinishReason } from '../models/sampling.js';
import { ChecksummedFileCache, sha256 } from './cache.js';

const MAGIC = 0x58544b4d; // "MKTX" read as little-endian u32
const VERSION = 1;
const HEADER_BYTES = 12 + 32;
const FINISH_REASONS: readonly FinishReason[] = ['eos', 'stop', 'length'];

/** One expert's greedy generation for one prompt. */
export interface GeneratedText {
  /** The decoded new tokens (special tokens skipped), the stop string included when generation stopped on it. */
  text: string;
  /** The new token ids (EOS included when generation ended on it). */
  tokens: number[];
  finishReason: FinishReason;
  /** Tokens of the prompt as the expert read it (after any truncation). */
  promptTokens: number;
}

/** Everything that decides a generation besides the model and tokenizer files. */
export interface GenerationKeySettings {
  maxNewTokens: number;
  stopStrings: readonly string[];
  addBos: boolean;
  /** Prompt truncation limit in tokens (undefined: none). */
  maxPromptTokens: number | undefined;
}

export interface TextCacheKeyParts {
  modelHash: string;
  tokenizerHash: string;
  settings: GenerationKeySettings;
  prompt: string;
}

export function encodeTextEntry(entry: GeneratedText): Uint8Array {
  const payload = Buffer.from(JSON.stringify({ text: entry.text, tokens: entry.tokens, finishReason: entry.finishReason, promptTokens: entry.promptTokens }), 'utf8');
  const out = new Uint8Array(HEADER_BYTES + payload.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, payload.byteLength, true);
  out.set(createHash('sha256').update(payload).digest(), 12);
  out.set(payload, HEADER_BYTES);
  return out;
}

/** Decode an entry; throws an Error saying what is wrong for anything but a complete, intact, well-formed entry. */
export function decodeTextEntry(bytes: Uint8Array): GeneratedText {
  if (bytes.byteLength < HEADER_BYTES) throw new Error(`truncated header (${bytes.byteLength} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new Error('bad magic number');
  const version = view.getUint32(4, true);
  if (version !== VERSION) throw new Error(`unsupported text cache entry version ${version}`);
  const payloadBytes = view.getUint32(8, true);
  if (bytes.byteLength !== HEADER_BYTES + payloadBytes) throw new Error(`truncated payload (${bytes.byteLength - HEADER_BYTES} of ${payloadBytes} bytes)`);
  const payload = bytes.subarray(HEADER_BYTES);
  if (!createHash('sha256').update(payload).digest().equals(bytes.subarray(12, HEADER_BYTES))) throw new Error('checksum mismatch');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw new Error('payload is not JSON');
  }
  const p = parsed as Partial<GeneratedText>;
  if (
    typeof p !== 'object' ||
    p === null ||
    typeof p.text !== 'string' ||
    !Array.isArray(p.tokens) ||
    !p.tokens.every((t) => Number.isInteger(t) && t >= 0) ||
    !FINISH_REASONS.includes(p.finishReason as FinishReason) ||
    !Number.isInteger(p.promptTokens)
  ) {
    throw new Error('payload lacks text, tokens, finishReason or promptTokens');
  }
  return { text: p.text, tokens: p.tokens, finishReason: p.finishReason as FinishReason, promptTokens: p.promptTokens as number };
}

/** Expert texts keyed by (model, tokenizer, generation settings, prompt). */
export class ExpertTextCache extends ChecksummedFileCache<GeneratedText> {
  constructor(dir: string, onCorrupt?: (file: string, reason: string) => void) {
    super(dir, '.txt.bin', { encode: encodeTextEntry, decode: decodeTextEntry }, onCorrupt);
  }

  key(parts: TextCacheKeyParts): string {
    const s = parts.settings;
    return sha256(JSON.stringify(['greedy', parts.modelHash, parts.tokenizerHash, s.maxNewTokens, [...s.stopStrings], s.addBos, s.maxPromptTokens ?? null, sha256(parts.prompt)]));
  }
}
