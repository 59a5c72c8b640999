/**
 * The registry of storage adapters, and the parsing of repository locations such as
 * `/srv/backup`, `local:/srv/backup` or `s3:host/bucket` into an adapter and its values.
 */

import {resolveOptionValues, type AdapterDefinition, type Environment, type OptionIssue, type OptionValues} from './options.js';
import type {Storage} from './storage.js';

/** A location split into its adapter and the adapter's resolved, validated values. */
export interface ParsedLocation {
	readonly adapter: AdapterDefinition;
	readonly values: OptionValues;
}

/** A location or its options cannot be used. `issues` lists every problem, for forms to show per field. */
export class RepositoryLocationError extends Error {
	readonly issues: readonly OptionIssue[];

	constructor(message: string, issues: readonly OptionIssue[]) {
		super(message);
		this.issues = issues;
		Object.defineProperty(this, 'name', {value: new.target.name, enumerable: false});
	}
}

const SCHEME_PATTERN = /^[a-z][a-z0-9+.-]*$/;
const OPTION_NAME_PATTERN = /^[a-z][a-zA-Z0-9_-]*$/;
/** `scheme:rest` at the start of a location. */
const LOCATION_PATTERN = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s;

const adapters = new Map<string, AdapterDefinition>();

/**
 * Adds an adapter. Registering the same definition object again does nothing; another definition
 * for a registered scheme, a malformed scheme or option name, or a repeated option name throws.
 */
export function registerAdapter(definition: AdapterDefinition): void {
	const existing = adapters.get(definition.scheme);
	if (existing === definition) return;
	if (existing !== undefined) throw new Error(`an adapter for scheme "${definition.scheme}" is already registered`);
	if (!SCHEME_PATTERN.test(definition.scheme)) throw new Error(`adapter scheme "${definition.scheme}" must match ${SCHEME_PATTERN}`);
	const names = new Set<string>();
	for (const option of definition.options) {
		if (!OPTION_NAME_PATTERN.test(option.name)) throw new Error(`option "${option.name}" of adapter "${definition.scheme}" must match ${OPTION_NAME_PATTERN}`);
		if (names.has(option.name)) throw new Error(`adapter "${definition.scheme}" declares option "${option.name}" twice`);
		names.add(option.name);
	}
	adapters.set(definition.scheme, definition);
}

/** Removes an adapter (for tests); unknown schemes are ignored. */
export function unregisterAdapter(scheme: string): void {
	adapters.delete(scheme);
}

/** Every registered adapter, in scheme order. */
export function listAdapters(): AdapterDefinition[] {
	return [...adapters.values()].sort((a, b) => a.scheme.localeCompare(b.scheme));
}

/** The adapter of a scheme, if registered. */
export function findAdapter(scheme: string): AdapterDefinition | undefined {
	return adapters.get(scheme);
}

/**
 * Splits a location into its adapter and values, merges `-o` options (keys `<scheme>.<name>`,
 * other schemes' keys ignored) and environment fallbacks, applies defaults and validates.
 *
 * A location that does not start with `word:` is a local path (`/abs`, `./rel`, `../rel`,
 * `~/x` and `rel` all are, whatever colons follow); `word:rest` with an unregistered `word` is
 * an error naming the known schemes (schemes are matched case-insensitively). Throws
 * {@link RepositoryLocationError} listing every problem at once; messages never quote secrets.
 */
export function parseRepositoryLocation(location: string, options: OptionValues = {}, env: Environment = process.env): ParsedLocation {
	const {adapter, rest} = splitLocation(location);
	const issues: OptionIssue[] = [];
	let fromLocation: Record<string, string> = {};
	try {
		fromLocation = adapter.parseLocation(rest);
	} catch (error) {
		issues.push({message: `the ${adapter.label} location "${redactLocation(location)}" is not valid: ${error instanceof Error ? error.message : String(error)} (example: ${adapter.example})`});
	}
	const resolved = resolveOptionValues(adapter, {location: fromLocation, options, env});
	issues.push(...resolved.issues);
	if (issues.length > 0) {
		const lines = issues.map((issue) => `  - ${issue.message}`).join('\n');
		throw new RepositoryLocationError(`cannot use repository ${redactLocation(location)} (${adapter.label}):\n${lines}`, issues);
	}
	return {adapter, values: resolved.values};
}

/** Parses a location (see {@link parseRepositoryLocation}) and opens its Storage; does not create a repository. */
export async function openRepositoryStorage(location: string, options: OptionValues = {}, env: Environment = process.env): Promise<Storage> {
	const {adapter, values} = parseRepositoryLocation(location, options, env);
	return adapter.open(values);
}

/** Writes a location back from an adapter's values: `<scheme>:<formatLocation(values)>`. */
export function formatRepositoryLocation(adapter: AdapterDefinition, values: OptionValues): string {
	return `${adapter.scheme}:${adapter.formatLocation(values)}`;
}

/**
 * Hides passwords in URLs inside a location: `s3:https://user:secret@host/b` becomes
 * `s3:https://user:***@host/b`. The user name stays, as it helps tell repositories apart.
 * As people paste unencoded secrets (with `/` or `@` in them), everything up to the last `@`
 * is hidden: this may hide too much, never too little.
 */
export function redactLocation(location: string): string {
	return location.replace(/(\/\/[^/:@\s]*):\S*@/g, '$1:***@');
}

/** A copy of `values` with secret options replaced by `***` and passwords removed from URL values. */
export function redactValues(values: OptionValues, adapter: AdapterDefinition): Record<string, string> {
	const copy: Record<string, string> = {...values};
	for (const option of adapter.options) {
		const value = copy[option.name];
		if (value === undefined || value === '') continue;
		if (option.secret === true) copy[option.name] = '***';
		else if (option.kind === 'url') copy[option.name] = redactLocation(value);
	}
	return copy;
}

/** Finds the adapter of a location and the part after its `scheme:`. */
function splitLocation(location: string): {adapter: AdapterDefinition; rest: string} {
	const trimmed = location.trim();
	if (trimmed === '') {
		throw new RepositoryLocationError('no repository location given: use a directory such as /srv/backup or a location such as local:/srv/backup', [
			{message: 'no repository location given'},
		]);
	}
	// Paths such as /srv/a:b, ./a:b, ../a:b or ~/a:b never match: a scheme starts with a letter.
	const match = LOCATION_PATTERN.exec(trimmed);
	if (match !== null) {
		const adapter = adapters.get(match[1]!.toLowerCase());
		if (adapter !== undefined) return {adapter, rest: match[2]!};
		const known = listAdapters().map((a) => a.scheme).join(', ') || 'none (import adapters/index.js to register them)';
		const shown = redactLocation(trimmed);
		const message =
			`unknown repository type "${match[1]}" in "${shown}"; known types: ${known}. ` +
			`For a local directory whose name holds a colon, write local:${shown} or ./${shown}`;
		throw new RepositoryLocationError(message, [{message}]);
	}
	const local = adapters.get('local');
	if (local === undefined) {
		const message = `"${trimmed}" is a local path, but the local adapter is not registered (import adapters/index.js)`;
		throw new RepositoryLocationError(message, [{message}]);
	}
	return {adapter: local, rest: trimmed};
}
