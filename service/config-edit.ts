/**
 * Edits of the config file that the service (and the app) make: setting or clearing
 * `restore_snapshot_id`. The file is edited through yaml's Document API, so comments, key order
 * and the other fields stay as they were, and replaced atomically (temporary file, fsync,
 * rename) with the file's own mode. No React here.
 */
import {readFile, stat} from 'node:fs/promises';
import {resolve} from 'node:path';
import {isMap, isScalar, parseDocument, type Document} from 'yaml';
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
	let value: string;
	if (id === undefined) {
		if (!doc.has('restore_snapshot_id') || currentText === '') return false;
		value = '';
	} else {
		if (!/^([0-9a-f]{4,64}|latest)$/.test(id)) throw new ConfigEditError(`"${id}" is not a snapshot ID: expected hexadecimal digits (at least 4) or latest`);
		if (currentText === id) return false;
		value = id;
	}
	await writeFileAtomic(file, replaceValue(text, doc, value), info.mode & 0o7777);
	return true;
}

/**
 * The file's text with restore_snapshot_id set to `value`. The value's own characters are
 * replaced where the Document API located them, so every other byte (comments, spacing, long
 * lines, flow collections) stays as it was; a file without the field gets it appended. Falls back
 * to the Document API's own output if the located edit would not read back as intended.
 */
function replaceValue(text: string, doc: Document, value: string): string {
	const quoted = JSON.stringify(value);
	const contents = doc.contents;
	if (isMap(contents)) {
		const pair = contents.items.find((item) => isScalar(item.key) && item.key.value === 'restore_snapshot_id');
		const node = pair?.value;
		if (isScalar(node) && node.range !== undefined && node.range !== null) {
			const [start, end] = node.range;
			const edited = text.slice(0, start) + quoted + text.slice(end);
			if (readsBack(edited, value)) return edited;
		}
		if (pair === undefined && !contents.flow) {
			const edited = `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}restore_snapshot_id: ${quoted}\n`;
			if (readsBack(edited, value)) return edited;
		}
	}
	doc.set('restore_snapshot_id', value);
	return doc.toString({lineWidth: 0, flowCollectionPadding: false});
}

function readsBack(text: string, value: string): boolean {
	const doc = parseDocument(text);
	return doc.errors.length === 0 && String(doc.get('restore_snapshot_id') ?? '') === value;
}
