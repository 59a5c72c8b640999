/**
 * Edits of the config file that the service (and the app) make: setting or clearing
 * `restore_snapshot_id`. The file is edited through yaml's Document API, so comments, key order
 * and the other fields stay as they were, and replaced atomically (temporary file, fsync,
 * rename) with the file's own mode. No React here.
 */
import {readFile, stat} from 'node:fs/promises';
import {resolve} from 'node:path';
import {parseDocument} from 'yaml';
import {writeFileAtomic} from './state.js';

/** The config file cannot be edited (it does not parse, or the field changed meanwhile). */
export class ConfigEditError extends Error {
	constructor(message: string, options?: {cause?: unknown}) {
		super(message, options);
		Object.defineProperty(this, 'name', {value: 'ConfigEditError', enumerable: false});
	}
}

/**
 * Sets `restore_snapshot_id` to `id`, or clears it when `id` is undefined (the field stays, empty,
 * with its comments; a file without the field is left as it is).
 *
 * With `expected`, the edit happens only while the field still holds that value: the service
 * clears the ID it restored, never one a person set meanwhile. Returns true when the file changed.
 * Throws ConfigEditError when the file is not valid YAML or `expected` does not match.
 */
export async function setRestoreSnapshotId(configPath: string, id: string | undefined, options: {expected?: string} = {}): Promise<boolean> {
	const file = resolve(configPath);
	const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
	const doc = parseDocument(text);
	if (doc.errors.length > 0) throw new ConfigEditError(`cannot edit ${file}: it is not valid YAML (${doc.errors[0]!.message.split('\n')[0]})`);
	const current = doc.get('restore_snapshot_id');
	const currentText = current === null || current === undefined ? '' : String(current);
	if (options.expected !== undefined && currentText !== options.expected) {
		throw new ConfigEditError(`restore_snapshot_id in ${file} is now "${currentText}", not "${options.expected}": left as it is`);
	}
	if (id === undefined) {
		if (!doc.has('restore_snapshot_id') || currentText === '') return false;
		doc.set('restore_snapshot_id', '');
	} else {
		if (!/^([0-9a-f]{4,64}|latest)$/.test(id)) throw new ConfigEditError(`"${id}" is not a snapshot ID: expected hexadecimal digits (at least 4) or latest`);
		if (currentText === id) return false;
		doc.set('restore_snapshot_id', id);
	}
	await writeFileAtomic(file, doc.toString(), info.mode & 0o7777);
	return true;
}
