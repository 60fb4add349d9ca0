// Chat templates of real models: the Jinja `chat_template` of a `tokenizer_config.json` (a string, or
// a list of named templates of which `default` is used), rendered with @huggingface/jinja the way
// transformers' `apply_chat_template(messages, tokenize=False, add_generation_prompt=True)` does, with
// the special tokens the template may refer to (bos_token, eos_token, ...).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { Template } from '@huggingface/jinja';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export class ChatTemplate {
  private readonly template: Template;

  constructor(
    readonly source: string,
    readonly text: string,
    private readonly specialTokens: Record<string, string>,
  ) {
    try {
      this.template = new Template(text);
    } catch (error) {
      throw new Error(`${source}: the chat template does not parse: ${(error as Error).message}`);
    }
  }

  /** The text the model reads for `messages`, ending with the assistant's turn opener when `addGenerationPrompt`. */
  render(messages: readonly ChatMessage[], addGenerationPrompt = true): string {
    try {
      return this.template.render({ messages, add_generation_prompt: addGenerationPrompt, ...this.specialTokens });
    } catch (error) {
      throw new Error(`${this.source}: rendering the chat template failed: ${(error as Error).message}`);
    }
  }

  /** A single user turn (optionally after a system prompt), ready for the model to answer. */
  prompt(user: string, system?: string): string {
    return this.render(system === undefined ? [{ role: 'user', content: user }] : [{ role: 'system', content: system }, { role: 'user', content: user }]);
  }
}

function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  return undefined;
}

/**
 * The chat template for a tokenizer directory or tokenizer.json path (read from the
 * `tokenizer_config.json` beside it, or a `chat_template.jinja` file there), or a `.jinja` file path.
 * Returns undefined when there is none.
 */
export function loadChatTemplate(path: string): ChatTemplate | undefined {
  if (path.endsWith('.jinja')) {
    if (!existsSync(path)) throw new Error(`chat template file not found: ${path}`);
    return new ChatTemplate(path, readFileSync(path, 'utf8'), {});
  }
  const dir = path.endsWith('.json') ? dirname(path) : path;
  const configPath = join(dir, 'tokenizer_config.json');
  const specials: Record<string, string> = {};
  let text: string | undefined;
  if (existsSync(configPath)) {
    let config: Record<string, unknown>;
    try {
      config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`${configPath} is not valid JSON: ${(error as Error).message}`);
    }
    for (const key of ['bos_token', 'eos_token', 'pad_token', 'unk_token']) {
      const t = tokenText(config[key]);
      if (t !== undefined) specials[key] = t;
    }
    const raw = config.chat_template;
    if (typeof raw === 'string') text = raw;
    else if (Array.isArray(raw)) {
      const named = raw as { name?: unknown; template?: unknown }[];
      const pick = named.find((t) => t.name === 'default') ?? named[0];
      if (pick && typeof pick.template === 'string') text = pick.template;
    }
    if (text !== undefined) return new ChatTemplate(configPath, text, specials);
  }
  const jinja = join(dir, 'chat_template.jinja');
  if (existsSync(jinja)) return new ChatTemplate(jinja, readFileSync(jinja, 'utf8'), specials);
  return undefined;
}
