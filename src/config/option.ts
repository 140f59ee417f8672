import type { Config } from './config.js';
import type { Parser } from './parsers.js';

/** One setting, written once: the parser, loadConfig and docs/configuration.md all read it from here. */
interface OptionDefinition<T> {
  /** The variable (also the key in OAUTHD_CONFIG_FILE). */
  env: string;
  /** The variable's text when it is not set, parsed like any other value. */
  default: string;
  /** What the docs add after the default, e.g. `0 (never expire)`. */
  note?: string;
  /** What the docs show instead of an empty default, e.g. `(none)`. */
  unsetMeans?: string;
  /** Its meaning, unit and security effect, as docs/configuration.md shows it. */
  description: string;
  parse: Parser<T>;
}

/** The part of Config that loadConfig fills in, one option at a time. */
export type ConfigDraft = { [G in keyof Config]: Partial<Config[G]> };

export interface Option extends Omit<OptionDefinition<unknown>, 'parse'> {
  /** Where the value goes in Config, e.g. `http.port`. */
  path: string;
  /** Parses `value` (the default when undefined) into its field of `draft`. */
  parseInto(draft: ConfigDraft, value: string | undefined): void;
}

/** The option behind `config[group][key]`; the parser must produce that field's type. */
export function option<G extends keyof Config, K extends keyof Config[G] & string>(
  group: G,
  key: K,
  definition: OptionDefinition<Config[G][K]>,
): Option & { path: `${G}.${K}` } {
  const { parse, ...shown } = definition;
  return {
    ...shown,
    path: `${group}.${key}`,
    parseInto: (draft, value) => {
      draft[group][key] = parse(value ?? definition.default, definition.env);
    },
  };
}
