/**
 * How an adapter declares itself and its settings, once, so that the location parser, the CLI's
 * `-o key=value`, the TUI's forms and saved profiles can all be generated from the declaration.
 *
 * Every value is a string, as it arrives from a location, `-o`, the environment or a profile;
 * {@link readNumberOption} and {@link readBooleanOption} turn validated strings into numbers and
 * booleans inside `open`.
 */

import type {Storage} from './storage.js';

/** How a value is entered and checked. Forms pick their widget from it; the check is built in. */
export type OptionKind = 'string' | 'number' | 'boolean' | 'path' | 'url';

/** Option values by option name (not prefixed with the scheme). */
export type OptionValues = Readonly<Record<string, string>>;

/** The environment to read fallbacks from; `process.env` has this shape. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * One setting of an adapter.
 *
 * Contract:
 * - `name` is unique within the adapter, matches `/^[a-z][a-zA-Z0-9_-]*$/`, and is the key in
 *   {@link OptionValues}; on the command line it is written `-o <scheme>.<name>=<value>`.
 * - A value is looked for, in order, in the location string (when `inLocation`), in `-o`
 *   options, in the environment variables of `env` (the first non-empty one wins), then in
 *   `default`. An empty string counts as not given.
 * - A `required` option with no value from any source is an error. Optional ones may be absent
 *   from the resolved values.
 * - Given values are checked against `kind` (built in), then `choices`, then `validate`.
 * - `secret` values (passwords, keys, tokens) are never shown: {@link OptionDeclaration.label}
 *   is shown instead, forms mask them, messages never quote them, and redaction replaces them.
 */
export interface OptionDeclaration {
	/** Key of the value, e.g. `path`, `region`, `access-key-id`. */
	readonly name: string;
	/** Short name for people, e.g. `Path`, `Region`. */
	readonly label: string;
	/** One or two sentences for help text and form hints. */
	readonly description: string;
	readonly required: boolean;
	/** Mask the value everywhere it could be shown or logged. */
	readonly secret?: boolean;
	/** Environment variables read, in order, when no other value was given, e.g. `['AWS_REGION', 'AWS_DEFAULT_REGION']`. */
	readonly env?: readonly string[];
	/** Default `'string'`. */
	readonly kind?: OptionKind;
	/** Value used when no source gives one. */
	readonly default?: string;
	/** The only values allowed, for select widgets. */
	readonly choices?: readonly string[];
	/** An example value shown in empty fields, e.g. `/srv/backup`. */
	readonly placeholder?: string;
	/** The value is part of the location string (parsed by `parseLocation`, written by `formatLocation`). */
	readonly inLocation?: boolean;
	/** Extra check of a present value: returns an error message (a sentence fragment, e.g. `must be at least 1`), or undefined when valid. */
	readonly validate?: (value: string) => string | undefined;
}

/**
 * Everything the registry needs to know about one kind of storage.
 *
 * Contract:
 * - `scheme` is lowercase (`/^[a-z][a-z0-9+.-]*$/`) and unique; a location is `<scheme>:<rest>`.
 * - `parseLocation(rest)` returns the values found in `rest` (only options with `inLocation`),
 *   leaving out those `rest` does not give; it throws an Error whose message says what is wrong
 *   when `rest` cannot be understood. It does not validate the values: the registry does.
 * - `formatLocation(values)` is its inverse: it returns `rest` (without `<scheme>:`), so that
 *   parsing the result gives the same location values back.
 * - `open(values)` receives resolved and validated values (defaults applied) and returns a
 *   ready {@link Storage}; it must not create the repository (that is `Storage.create`).
 */
export interface AdapterDefinition {
	readonly scheme: string;
	/** Name for people, e.g. `Local directory`, `Amazon S3`. */
	readonly label: string;
	/** One sentence for help text. */
	readonly description: string;
	/** A complete example location, e.g. `local:/srv/backup`, used in help and error hints. */
	readonly example: string;
	readonly options: readonly OptionDeclaration[];
	parseLocation(rest: string): Record<string, string>;
	formatLocation(values: OptionValues): string;
	open(values: OptionValues): Promise<Storage>;
}

/** One problem with the given values; `field` names the option when there is one. */
export interface OptionIssue {
	readonly field?: string;
	readonly message: string;
}

const TRUE_WORDS = ['true', 'yes', 'on', '1'];
const FALSE_WORDS = ['false', 'no', 'off', '0'];

/** Checks a present value against the option's kind, choices and `validate`; returns an error fragment or undefined. */
export function checkOptionValue(option: OptionDeclaration, value: string): string | undefined {
	const kindProblem = checkKind(option.kind ?? 'string', value);
	if (kindProblem !== undefined) return kindProblem;
	if (option.choices !== undefined && !option.choices.includes(value)) {
		return `must be one of ${option.choices.join(', ')}`;
	}
	return option.validate?.(value);
}

/** The built-in check for each {@link OptionKind}. */
function checkKind(kind: OptionKind, value: string): string | undefined {
	switch (kind) {
		case 'number':
			return /^-?\d+(\.\d+)?$/.test(value.trim()) ? undefined : 'must be a number';
		case 'boolean':
			return parseBoolean(value) === undefined ? 'must be true or false (yes/no, on/off and 1/0 also work)' : undefined;
		case 'url':
			return isUrl(value) ? undefined : 'must be a URL such as https://host.example/path';
		case 'path':
		case 'string':
			return undefined;
	}
}

/** Tells whether a string parses as an absolute URL with a scheme and host. */
function isUrl(value: string): boolean {
	try {
		return new URL(value).host !== '';
	} catch {
		return false;
	}
}

/** Parses the boolean words accepted by `kind: 'boolean'`. */
function parseBoolean(value: string): boolean | undefined {
	const word = value.trim().toLowerCase();
	if (TRUE_WORDS.includes(word)) return true;
	if (FALSE_WORDS.includes(word)) return false;
	return undefined;
}

/** Reads a validated `kind: 'number'` value; undefined when absent. */
export function readNumberOption(values: OptionValues, name: string): number | undefined {
	const value = values[name];
	return value === undefined || value === '' ? undefined : Number(value);
}

/** Reads a validated `kind: 'boolean'` value; undefined when absent. */
export function readBooleanOption(values: OptionValues, name: string): boolean | undefined {
	const value = values[name];
	return value === undefined || value === '' ? undefined : parseBoolean(value);
}

/** Where {@link resolveOptionValues} takes values from. */
export interface OptionSources {
	/** Values parsed from the location string. */
	readonly location: OptionValues;
	/** `-o` options with their scheme prefix, e.g. `{'local.path': '/srv'}`; other schemes' keys are ignored. */
	readonly options: OptionValues;
	readonly env: Environment;
}

/**
 * Merges the sources of an adapter's values (see {@link OptionDeclaration} for the order),
 * applies defaults and checks every value. Returns all problems at once rather than the first.
 */
export function resolveOptionValues(adapter: AdapterDefinition, sources: OptionSources): {values: Record<string, string>; issues: OptionIssue[]} {
	const issues: OptionIssue[] = [];
	const fromOptions = pickOwnOptions(adapter, sources.options, issues);
	const values: Record<string, string> = {};
	for (const option of adapter.options) {
		const key = `${adapter.scheme}.${option.name}`;
		const title = `${option.label} (${key})`;
		const inLocation = omitEmpty(sources.location[option.name]);
		const inOptions = omitEmpty(fromOptions[option.name]);
		if (inLocation !== undefined && inOptions !== undefined && inLocation !== inOptions) {
			issues.push({field: option.name, message: `${title} is given both in the location and as -o ${key}; give it only once`});
		}
		const value = inLocation ?? inOptions ?? readEnvironment(option, sources.env) ?? omitEmpty(option.default);
		if (value === undefined) {
			if (option.required) issues.push({field: option.name, message: `${title} is required: ${describeSources(adapter, option)}`});
			continue;
		}
		const problem = checkOptionValue(option, value);
		if (problem !== undefined) {
			const shown = option.secret === true ? '' : ` "${value}"`;
			issues.push({field: option.name, message: `${title}${shown} ${problem}`});
		}
		values[option.name] = value;
	}
	return {values, issues};
}

/** Takes the `-o` keys of this adapter's scheme, reporting malformed and unknown ones. */
function pickOwnOptions(adapter: AdapterDefinition, options: OptionValues, issues: OptionIssue[]): Record<string, string> {
	const own: Record<string, string> = {};
	const known = adapter.options.map((option) => `${adapter.scheme}.${option.name}`);
	for (const [key, value] of Object.entries(options)) {
		const dot = key.indexOf('.');
		if (dot <= 0) {
			issues.push({message: `option "${key}" needs a repository type prefix, e.g. -o ${adapter.scheme}.${key}=…`});
			continue;
		}
		if (key.slice(0, dot) !== adapter.scheme) continue;
		const name = key.slice(dot + 1);
		if (!adapter.options.some((option) => option.name === name)) {
			issues.push({message: `unknown option -o ${key}; ${adapter.label} (${adapter.scheme}) accepts: ${known.join(', ')}`});
			continue;
		}
		own[name] = value;
	}
	return own;
}

/** The first non-empty environment variable of the option. */
function readEnvironment(option: OptionDeclaration, env: Environment): string | undefined {
	for (const name of option.env ?? []) {
		const value = omitEmpty(env[name]);
		if (value !== undefined) return value;
	}
	return undefined;
}

/** Says where a missing value can be given. */
function describeSources(adapter: AdapterDefinition, option: OptionDeclaration): string {
	const ways: string[] = [];
	if (option.inLocation === true) ways.push(`put it in the location (e.g. ${adapter.example})`);
	ways.push(`pass -o ${adapter.scheme}.${option.name}=…`);
	if (option.env !== undefined && option.env.length > 0) ways.push(`set ${option.env.join(' or ')}`);
	return ways.length === 1 ? ways[0]! : `${ways.slice(0, -1).join(', ')} or ${ways.at(-1)!}`;
}

/** An empty string counts as absent. */
function omitEmpty(value: string | undefined): string | undefined {
	return value === undefined || value === '' ? undefined : value;
}
