// The tokenizer interface the rest of musketeers uses (experts, policy, router inputs), whatever
// tokenizer is behind it: a Hugging Face tokenizer.json of a real model or one the project built.

/** Options of {@link TextTokenizer.encode}. */
export interface EncodeOptions {
  /** Prepend the BOS id. Throws when the tokenizer has no BOS token. Default false. */
  addBos?: boolean;
  /** Append the EOS id. Throws when the tokenizer has no EOS token. Default false. */
  addEos?: boolean;
}

/** Options of {@link TextTokenizer.decode}. */
export interface DecodeOptions {
  /** Drop special tokens (pad, bos, eos, unk and every added token marked special). Default false. */
  skipSpecial?: boolean;
}

/**
 * A text tokenizer. Encoding never adds special tokens by itself: a real tokenizer's own
 * post-processor (e.g. Llama's automatic BOS) is not applied; callers ask for BOS/EOS explicitly.
 *
 * Special ids: the project's own tokenizers always define all four (`padId` 0, `bosId` 1, `eosId` 2,
 * `unkId` 3). For a real model's tokenizer each is read from `tokenizer_config.json` (`pad_token`,
 * `bos_token`, `eos_token`, `unk_token`; `unk` also from the model's `unk_token`) and is `undefined`
 * where the model has none (e.g. Qwen2.5 has no BOS and no UNK; byte-level BPEs never need UNK).
 */
export interface TextTokenizer {
  /** Human-readable name (tokenizer_config `name_or_path`, or the directory name). */
  readonly name: string;
  /** Number of ids: highest id + 1 (added tokens included). Embedding tables need at least this many rows. */
  readonly vocabSize: number;
  readonly padId: number | undefined;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly unkId: number | undefined;
  /** Ids of every special token (the four above where defined, and other added special tokens). */
  readonly specialIds: ReadonlySet<number>;
  /** Text -> ids, no special tokens unless asked for. `encode('')` is `[]` (plus BOS/EOS if asked). */
  encode(text: string, options?: EncodeOptions): number[];
  /** Ids -> text. Throws on an id outside [0, vocabSize). `decode([])` is `''`. */
  decode(ids: readonly number[], options?: DecodeOptions): string;
  /** Id of a token string (as stored in the vocabulary, e.g. 'Ġthe' for byte-level BPE), or undefined. */
  tokenToId(token: string): number | undefined;
  /** Token string of an id, or undefined when the id is not in the vocabulary. */
  idToToken(id: number): string | undefined;
}
