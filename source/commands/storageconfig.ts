/**
 * `cairn storageconfig show|set`: reads and writes the `.storageconfig` at the repository root,
 * which chooses the storage class (tier) of each kind of file (see adapters/shared/storage-config.ts).
 *
 * `set` takes the file's JSON (as an argument or with --file), or the simple form
 * `--data CLASS [--index CLASS] [--snapshots CLASS] [--default CLASS]`; `--clear` removes the file.
 * Rules that would put anything other than data/ into a class that cannot be read directly are
 * refused unless --force is given. No password is needed: the file is not encrypted.
 */
import {readFile} from 'node:fs/promises';

import {
	buildStorageConfig,
	findStorageClass,
	formatStorageConfig,
	listColdRuleWarnings,
	parseStorageConfig,
	STORAGE_CONFIG_NAME,
	type StorageConfig,
} from '../../adapters/shared/storage-config.js';
import type {Storage, StorageConfigFile} from '../../adapters/storage.js';
import {UsageError} from '../../engine/errors.js';
import {openStorage, printJson, type GlobalFlags} from '../cli/context.js';

/** Flags of `cairn storageconfig`. */
export interface StorageConfigFlags extends GlobalFlags {
	file?: string;
	data?: string;
	index?: string;
	snapshots?: string;
	default?: string;
	clear?: boolean;
	force?: boolean;
}

/** A representative key of each kind of file, for showing which class applies. */
const SAMPLE_KEYS: ReadonlyArray<[string, string]> = [
	['config', 'config'],
	['keys/', `keys/${'0'.repeat(64)}`],
	['locks/', `locks/${'0'.repeat(64)}`],
	['snapshots/', `snapshots/${'0'.repeat(64)}`],
	['index/', `index/${'0'.repeat(64)}`],
	['data/', `data/00/${'0'.repeat(64)}`],
];

/** The class each kind of file gets under `config`; undefined: the store's default. */
export function describeEffectiveClasses(config: StorageConfig | undefined): Array<{files: string; storageClass: string | undefined}> {
	return SAMPLE_KEYS.map(([files, key]) => ({files, storageClass: findStorageClass(config, key)}));
}

/** Runs `cairn storageconfig <action> [json]`. */
export async function runStorageConfig(action: string, json: string | undefined, flags: StorageConfigFlags, signal: AbortSignal): Promise<number> {
	if (action !== 'show' && action !== 'set') throw new UsageError(`unknown action ${JSON.stringify(action)}: use cairn storageconfig show, or cairn storageconfig set`);
	const storage = await openStorage(flags);
	try {
		const file = findConfigFile(storage);
		return action === 'show' ? await show(storage, file, flags, signal) : await set(storage, file, json, flags, signal);
	} finally {
		await storage.close();
	}
}

function findConfigFile(storage: Storage): StorageConfigFile {
	if (storage.storageConfig === undefined) {
		throw new UsageError(`${storage.location} has no storage classes, so a ${STORAGE_CONFIG_NAME} has no effect there; it applies to S3 (s3:), Azure (azure:) and Google Cloud Storage (gs:) repositories`);
	}
	return storage.storageConfig;
}

async function show(storage: Storage, file: StorageConfigFile, flags: StorageConfigFlags, signal: AbortSignal): Promise<number> {
	const bytes = await file.read({signal});
	let config: StorageConfig | undefined;
	let problem: string | undefined;
	if (bytes !== undefined) {
		try {
			config = parseStorageConfig(bytes);
		} catch (error) {
			problem = (error as Error).message;
		}
	}
	const classes = describeEffectiveClasses(config);
	const warnings = config === undefined ? [] : listColdRuleWarnings(config, file.coldClasses);
	if (flags.json) {
		printJson({location: storage.location, present: bytes !== undefined, config: config ?? null, error: problem ?? null, classes, warnings});
		return problem === undefined ? 0 : 1;
	}
	if (bytes === undefined) {
		process.stdout.write(`${storage.location} has no ${STORAGE_CONFIG_NAME}: every object gets the store's default class (or the adapter's storage-class option).\n`);
		process.stdout.write('Set one with e.g. cairn storageconfig set --data STANDARD_IA --default STANDARD\n');
		return 0;
	}
	if (problem !== undefined) {
		process.stdout.write(`${STORAGE_CONFIG_NAME} of ${storage.location} cannot be used: ${problem}\n--- its content ---\n${new TextDecoder().decode(bytes)}\n`);
		process.stderr.write('Backups to this repository fail until it is fixed: replace it with cairn storageconfig set, or remove it with cairn storageconfig set --clear\n');
		return 1;
	}
	process.stdout.write(`${STORAGE_CONFIG_NAME} of ${storage.location}:\n${formatStorageConfig(config!)}`);
	process.stdout.write(formatClasses(classes));
	for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
	return 0;
}

async function set(storage: Storage, file: StorageConfigFile, json: string | undefined, flags: StorageConfigFlags, signal: AbortSignal): Promise<number> {
	const config = await readRequestedConfig(json, flags);
	if (config === undefined) {
		await file.write(undefined, {signal});
		if (flags.json) printJson({location: storage.location, present: false, classes: describeEffectiveClasses(undefined)});
		else process.stdout.write(`removed ${STORAGE_CONFIG_NAME} from ${storage.location}: new objects get the store's default class\n`);
		return 0;
	}
	const warnings = listColdRuleWarnings(config, file.coldClasses);
	if (warnings.length > 0 && flags.force !== true) {
		for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
		throw new UsageError(`${STORAGE_CONFIG_NAME} not changed: it would make files cairn must read on every run unreadable until thawed. Put only data/ in a cold class, or add --force if you really mean it`);
	}
	const known = new Set(file.classes.map((name) => name.toLowerCase()));
	const unknown = [...new Set(config.blobOptions.map((rule) => rule.storageClass).filter((name) => name !== '' && !known.has(name.toLowerCase())))];
	await file.write(new TextEncoder().encode(formatStorageConfig(config)), {signal});
	const classes = describeEffectiveClasses(config);
	if (flags.json) {
		printJson({location: storage.location, present: true, config, classes, warnings});
		return 0;
	}
	for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
	if (unknown.length > 0) {
		process.stderr.write(`note: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not among the classes cairn knows for this store (${file.classes.join(', ')}); S3-compatible services may have their own names, and an unknown one fails the upload with a message naming it\n`);
	}
	process.stdout.write(`wrote ${STORAGE_CONFIG_NAME} to ${storage.location}:\n${formatStorageConfig(config)}${formatClasses(classes)}`);
	process.stdout.write('It applies to objects written from now on; objects already stored keep their class.\n');
	return 0;
}

/** The configuration asked for: JSON (argument or --file), the simple flags, or undefined for --clear. */
async function readRequestedConfig(json: string | undefined, flags: StorageConfigFlags): Promise<StorageConfig | undefined> {
	const simple = flags.data !== undefined || flags.index !== undefined || flags.snapshots !== undefined || flags.default !== undefined;
	const sources = [json !== undefined, flags.file !== undefined, simple, flags.clear === true].filter(Boolean).length;
	if (sources === 0) {
		throw new UsageError('nothing to set: give the JSON (cairn storageconfig set \'{"blobOptions":[{"prefix":"data/","storageClass":"STANDARD_IA"}]}\'), --file FILE, the simple form --data CLASS [--index CLASS] [--snapshots CLASS] [--default CLASS], or --clear');
	}
	if (sources > 1) throw new UsageError('give only one of: the JSON argument, --file, the --data/--index/--snapshots/--default form, or --clear');
	if (flags.clear === true) return undefined;
	if (simple) {
		for (const [name, value] of Object.entries({data: flags.data, index: flags.index, snapshots: flags.snapshots, default: flags.default})) {
			if (value !== undefined && !/^[A-Za-z0-9_-]+$/.test(value)) throw new UsageError(`invalid --${name} ${JSON.stringify(value)}: give a storage class name such as STANDARD_IA or Cool`);
		}
		return buildStorageConfig({data: flags.data, index: flags.index, snapshots: flags.snapshots, default: flags.default});
	}
	let text = json;
	if (flags.file !== undefined) {
		try {
			text = await readFile(flags.file, 'utf8');
		} catch (error) {
			throw new UsageError(`cannot read --file ${flags.file}: ${(error as Error).message}`);
		}
	}
	try {
		return parseStorageConfig(text!);
	} catch (error) {
		throw new UsageError((error as Error).message);
	}
}

function formatClasses(classes: ReturnType<typeof describeEffectiveClasses>): string {
	return `${classes.map(({files, storageClass}) => `  ${files.padEnd(11)} ${storageClass ?? '(store default)'}`).join('\n')}\n`;
}
