/**
 * The `.storageconfig` file: which storage class (tier) each object of a repository is stored in.
 *
 * The format is Kopia's, so a file written for one works for the other:
 *
 * ```json
 * {"blobOptions": [{"prefix": "data/", "storageClass": "DEEP_ARCHIVE"}, {"storageClass": "STANDARD_IA"}]}
 * ```
 *
 * Contract, for every adapter that honours the file (S3, Azure, GCS, ...):
 * - The file is named `.storageconfig` and lives at the repository root (inside the prefix).
 * - A rule's `prefix` is matched against the object's key relative to the repository root
 *   (`config`, `keys/<id>`, `locks/<id>`, `snapshots/<id>`, `index/<id>`, `data/<xx>/<id>`) with a
 *   plain "starts with" test. Rules are tried in order and the first match wins; a rule with no
 *   prefix (or an empty one) matches every key, so it is the default when placed last.
 * - A matching rule's `storageClass` is passed to the store as is (S3 `x-amz-storage-class`,
 *   Azure access tier, GCS storage class). An empty `storageClass` means "the store's own
 *   default" (no class is sent). No match also means the store's default, or the adapter's
 *   own default-class option when it has one.
 * - Unknown keys are ignored (as Kopia, a Go program, does), so newer files still load.
 * - The file itself is never given a class by its own rules.
 */

import {PermanentError} from '../storage.js';

/** One rule of a `.storageconfig`. */
export interface StorageClassRule {
	/** Key prefix relative to the repository root; empty matches every key. */
	readonly prefix: string;
	/** The class to store matching objects in; empty means the store's default. */
	readonly storageClass: string;
}

/** A parsed `.storageconfig`: its rules in order. */
export interface StorageConfig {
	readonly blobOptions: readonly StorageClassRule[];
}

/** The file's name at the repository root. */
export const STORAGE_CONFIG_NAME = '.storageconfig';

/** What each kind of repository file's keys look like, for the checks in {@link listColdRuleWarnings}. */
const KEY_KINDS: ReadonlyArray<{kind: string; prefix: string; exact: boolean}> = [
	{kind: 'config', prefix: 'config', exact: true},
	{kind: 'keys', prefix: 'keys/', exact: false},
	{kind: 'locks', prefix: 'locks/', exact: false},
	{kind: 'snapshots', prefix: 'snapshots/', exact: false},
	{kind: 'index', prefix: 'index/', exact: false},
	{kind: 'data', prefix: 'data/', exact: false},
];

/**
 * Parses the text (or bytes) of a `.storageconfig`. Throws an Error whose message says what is
 * wrong (not JSON, `blobOptions` not a list, a rule without a string `storageClass`, ...).
 */
export function parseStorageConfig(json: string | Uint8Array): StorageConfig {
	const text = typeof json === 'string' ? json : new TextDecoder('utf-8', {fatal: false}).decode(json);
	let document: unknown;
	try {
		document = JSON.parse(text);
	} catch (error) {
		throw new Error(`the storage configuration is not valid JSON (${(error as Error).message}); expected e.g. {"blobOptions":[{"prefix":"data/","storageClass":"STANDARD_IA"}]}`);
	}
	if (typeof document !== 'object' || document === null || Array.isArray(document)) {
		throw new Error('the storage configuration must be a JSON object with a "blobOptions" list');
	}
	const options = (document as {blobOptions?: unknown}).blobOptions;
	if (options === undefined || options === null) return {blobOptions: []};
	if (!Array.isArray(options)) throw new Error('"blobOptions" of the storage configuration must be a list of {"prefix", "storageClass"} rules');
	const rules = options.map((entry: unknown, index): StorageClassRule => {
		const where = `rule ${index + 1} of "blobOptions"`;
		if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new Error(`${where} must be an object such as {"prefix":"data/","storageClass":"STANDARD_IA"}`);
		const {prefix, storageClass} = entry as {prefix?: unknown; storageClass?: unknown};
		if (prefix !== undefined && prefix !== null && typeof prefix !== 'string') throw new Error(`${where}: "prefix" must be a string such as "data/"`);
		if (typeof storageClass !== 'string') throw new Error(`${where} needs a "storageClass" string, e.g. "STANDARD_IA"`);
		if (/[\s\u0000-\u001f]/.test(storageClass)) throw new Error(`${where}: the storage class ${JSON.stringify(storageClass)} must not contain spaces or control characters`);
		return {prefix: typeof prefix === 'string' ? prefix : '', storageClass};
	});
	return {blobOptions: rules};
}

/**
 * The storage class for `key` (relative to the repository root, e.g. `data/ab/ab12…`): the class of
 * the first rule whose prefix starts `key`, or undefined when no rule matches or the matching
 * rule's class is empty (both mean "the store's default").
 */
export function findStorageClass(config: StorageConfig | undefined, key: string): string | undefined {
	if (config === undefined || key === STORAGE_CONFIG_NAME) return undefined;
	for (const rule of config.blobOptions) {
		if (key.startsWith(rule.prefix)) return rule.storageClass === '' ? undefined : rule.storageClass;
	}
	return undefined;
}

/** Writes a configuration as the file's text (pretty JSON with a final newline). Empty prefixes are left out, as Kopia does. */
export function formatStorageConfig(config: StorageConfig): string {
	const blobOptions = config.blobOptions.map((rule) => (rule.prefix === '' ? {storageClass: rule.storageClass} : {prefix: rule.prefix, storageClass: rule.storageClass}));
	return `${JSON.stringify({blobOptions}, null, 2)}\n`;
}

/** The simple form of `cairn storageconfig set`: a class per kind of file, and a default. */
export interface SimpleStorageClasses {
	/** Class of `data/` (the packs). */
	readonly data?: string;
	readonly index?: string;
	readonly snapshots?: string;
	readonly keys?: string;
	readonly locks?: string;
	readonly config?: string;
	/** Class of everything else (a rule without a prefix, last). */
	readonly default?: string;
}

/** Builds a configuration from {@link SimpleStorageClasses}: one rule per given kind, then the default. */
export function buildStorageConfig(classes: SimpleStorageClasses): StorageConfig {
	const rules: StorageClassRule[] = [];
	for (const {kind, prefix} of KEY_KINDS) {
		const storageClass = classes[kind as keyof SimpleStorageClasses];
		if (storageClass !== undefined) rules.push({prefix, storageClass});
	}
	if (classes.default !== undefined) rules.push({prefix: '', storageClass: classes.default});
	return {blobOptions: rules};
}

/**
 * Problems worth a warning: rules that would put files other than `data/` into a class that
 * cannot be read directly (`coldClasses`, compared case-insensitively). The engine reads
 * config, keys, index and snapshot files on every run, so these must stay readable; `data/`
 * packs may go cold, at the cost of a thaw before a restore. Returns one sentence per problem.
 */
export function listColdRuleWarnings(config: StorageConfig, coldClasses: readonly string[]): string[] {
	const cold = new Set(coldClasses.map((name) => name.toLowerCase()));
	const warnings: string[] = [];
	for (const {kind, prefix: kindPrefix, exact} of KEY_KINDS) {
		if (kind === 'data') continue;
		for (const [index, rule] of config.blobOptions.entries()) {
			// A rule covers every key of the kind when its prefix starts the kind's prefix; it
			// covers some of them when it extends the kind's prefix (a folder kind only).
			const coversAll = kindPrefix.startsWith(rule.prefix);
			const coversSome = coversAll || (!exact && rule.prefix.startsWith(kindPrefix));
			if (!coversSome) continue;
			if (cold.has(rule.storageClass.toLowerCase())) {
				const what = rule.prefix === '' ? 'the default rule' : `rule ${index + 1} (prefix ${JSON.stringify(rule.prefix)})`;
				warnings.push(
					`${what} puts ${kind === 'config' ? 'the config file' : `${kind}/ files`} into ${rule.storageClass}, which cannot be read without a thaw: ` +
						`every cairn command reads ${kind === 'locks' ? 'locks' : kind === 'config' ? 'the config' : `${kind}`} first and would fail. ` +
						'Keep cold classes for "data/" only, e.g. {"blobOptions":[{"prefix":"data/","storageClass":"DEEP_ARCHIVE"},{"storageClass":"STANDARD"}]}',
				);
				break;
			}
			if (coversAll) break;
		}
	}
	return warnings;
}

/**
 * Reads a store's `.storageconfig` once and keeps the parsed result, for adapters that honour it on
 * every upload. A failed read is forgotten (the next call tries again); an invalid file rejects
 * with a PermanentError that says how to fix it. `replace` records a file the adapter just wrote.
 */
export class StorageConfigCache {
	private pending: Promise<StorageConfig | undefined> | undefined;

	constructor(
		private readonly location: string,
		private readonly read: (signal?: AbortSignal) => Promise<Uint8Array | undefined>,
	) {}

	/** The parsed file, or undefined when the store has none. */
	load(signal?: AbortSignal): Promise<StorageConfig | undefined> {
		this.pending ??= this.read(signal).then(
			(bytes) => {
				if (bytes === undefined) return undefined;
				try {
					return parseStorageConfig(bytes);
				} catch (error) {
					throw new PermanentError(
						`the ${STORAGE_CONFIG_NAME} of ${this.location} is not valid: ${(error as Error).message}. Fix it with \`cairn storageconfig set\`, or remove it with \`cairn storageconfig set --clear\``,
						{cause: error},
					);
				}
			},
			(error: unknown) => {
				this.pending = undefined;
				throw error;
			},
		);
		return this.pending;
	}

	/** Records the configuration now in the store (undefined after removing it). */
	replace(config: StorageConfig | undefined): void {
		this.pending = Promise.resolve(config);
	}
}
