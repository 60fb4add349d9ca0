// TypeScript shapes of the Hugging Face tokenizer files this project writes and reads:
// `tokenizer.json` (serialization version "1.0" of the Rust `tokenizers` crate) and `tokenizer_config.json`.

/** An entry of `added_tokens`; every field is written, as the Rust serializer does. */
export interface HfAddedToken {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** The BPE model as the Rust crate serializes it (all fields present; `merges` as "left right" strings). */
export interface HfBpeModel {
  type: 'BPE';
  dropout: null;
  unk_token: string | null;
  continuing_subword_prefix: null;
  end_of_word_suffix: null;
  fuse_unk: boolean;
  byte_fallback: boolean;
  ignore_merges: boolean;
  vocab: Record<string, number>;
  merges: string[];
}

export type HfPattern = { Regex: string } | { String: string };

export type HfPreTokenizer =
  | { type: 'ByteLevel'; add_prefix_space: boolean; trim_offsets: boolean; use_regex: boolean }
  | { type: 'Split'; pattern: HfPattern; behavior: 'Isolated' | 'Removed'; invert: boolean }
  | { type: 'Sequence'; pretokenizers: HfPreTokenizer[] };

export type HfDecoder =
  | { type: 'ByteLevel'; add_prefix_space: boolean; trim_offsets: boolean; use_regex: boolean }
  | { type: 'Fuse' };

/** The subset of `tokenizer.json` the project writes. Readers accept any valid file. */
export interface HfTokenizerJson {
  version: '1.0';
  truncation: null;
  padding: null;
  added_tokens: HfAddedToken[];
  normalizer: null;
  pre_tokenizer: HfPreTokenizer | null;
  post_processor: null;
  decoder: HfDecoder;
  model: HfBpeModel;
}

/** A special-token field of tokenizer_config.json: a string, an AddedToken-like object, or null. */
export type HfConfigToken = string | { content: string } | null | undefined;

/** The fields of `tokenizer_config.json` this project reads or writes (others are kept and ignored). */
export interface HfTokenizerConfig {
  tokenizer_class?: string;
  name_or_path?: string;
  bos_token?: HfConfigToken;
  eos_token?: HfConfigToken;
  pad_token?: HfConfigToken;
  unk_token?: HfConfigToken;
  additional_special_tokens?: HfConfigToken[];
  model_max_length?: number;
  clean_up_tokenization_spaces?: boolean;
  [key: string]: unknown;
}
