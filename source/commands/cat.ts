import {parseJsonBytes} from '../../engine/format/json.js';
import {normalizeGoTime} from '../../engine/format/go-values.js';
import {hashHex} from '../../engine/util/hash.js';
import {encodeMasterKey} from '../../engine/repository/keys.js';
import {findSnapshotId, loadSnapshot} from '../../engine/repository/snapshots.js';
import {resolvePath} from '../../engine/restorer/walk.js';
import {CairnError} from '../../engine/errors.js';
import type {Repository} from '../../engine/repository/repository.js';
import {openRepository, type GlobalFlags} from '../cli/context.js';
import {withSharedLock, type LockFlags} from '../cli/snapshot-select.js';

/** The object types `cairn cat` prints. */
export const CAT_TYPES = ['config', 'index', 'snapshot', 'key', 'masterkey', 'lock', 'pack', 'blob', 'tree'] as const;

/** Go's json.MarshalIndent(v, "", "  ") for plain values: two-space indents and HTML-safe escapes. */
export function marshalIndent(value: unknown): string {
	return JSON.stringify(value, null, 2).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

function pick(source: Record<string, unknown>, fields: Array<[string, boolean]>): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const [name, omitEmpty] of fields) {
		const value = source[name];
		const empty = value === undefined || value === null || value === '' || value === 0 || value === false || (Array.isArray(value) && value.length === 0);
		if (omitEmpty && empty) continue;
		out[name] = value ?? (name === 'paths' ? null : value);
	}
	return out;
}

function isHexId(text: string): boolean {
	return /^[0-9a-f]{64}$/.test(text);
}

/** `cairn cat TYPE [ID]`: prints a repository object as restic's cat does. */
export async function runCat(args: string[], flags: GlobalFlags & LockFlags, signal: AbortSignal): Promise<number> {
	const type = args[0];
	if (type === undefined || (type !== 'masterkey' && type !== 'config' && args.length !== 2)) throw new CairnError('type or ID not specified');
	if (!(CAT_TYPES as readonly string[]).includes(type)) throw new CairnError('invalid type');
	const repo = await openRepository(flags, signal, {cache: false});
	try {
		return await withSharedLock(repo, flags, signal, async () => {
			const out = await catObject(repo, type, args[1] ?? '', signal);
			await new Promise<void>((resolve, reject) => process.stdout.write(out, (error) => (error ? reject(error) : resolve())));
			return 0;
		});
	} finally {
		await repo.close();
	}
}

async function catObject(repo: Repository, type: string, ref: string, signal: AbortSignal): Promise<Buffer | string> {
	const needId = (): string => {
		if (!isHexId(ref)) throw new CairnError(`unable to parse ID: invalid ID ${JSON.stringify(ref)}: give the full 64-digit hex ID`);
		return ref;
	};
	switch (type) {
		case 'config':
			return marshalIndent({version: repo.config.version, id: repo.config.id, chunker_polynomial: repo.config.chunker_polynomial}) + '\n';
		case 'masterkey':
			return marshalIndent(JSON.parse(encodeMasterKey(repo.key))) + '\n';
		case 'index':
			return Buffer.concat([await repo.loadUnpacked('index', needId(), signal), Buffer.from('\n')]);
		case 'snapshot': {
			let id = ref;
			if (!isHexId(ref)) {
				try {
					id = await findSnapshotId(repo, ref, {}, signal);
				} catch (error) {
					throw new CairnError(`could not find snapshot: ${(error as Error).message}`);
				}
			}
			const snapshot = {...(await loadSnapshot(repo, id, signal))} as Record<string, unknown>;
			snapshot.time = normalizeGoTime(snapshot.time as string);
			return marshalIndent(pick(snapshot, [['time', false], ['parent', true], ['tree', false], ['paths', false], ['hostname', true], ['username', true], ['uid', true], ['gid', true], ['excludes', true], ['tags', true], ['original', true], ['program_version', true], ['summary', true]])) + '\n';
		}
		case 'key': {
			const raw = await repo.storage.load({type: 'keys', name: needId()}, {signal});
			const key = parseJsonBytes<Record<string, unknown>>(raw, `key ${ref.slice(0, 8)}`);
			if (typeof key.created === 'string') key.created = normalizeGoTime(key.created);
			return marshalIndent(pick(key, [['created', false], ['username', false], ['hostname', false], ['kdf', false], ['N', false], ['r', false], ['p', false], ['salt', false], ['data', false]])) + '\n';
		}
		case 'lock': {
			const lock = await repo.loadJson<Record<string, unknown>>('locks', needId(), signal);
			if (typeof lock.time === 'string') lock.time = normalizeGoTime(lock.time);
			return marshalIndent(pick(lock, [['time', false], ['exclusive', false], ['hostname', false], ['username', false], ['pid', false], ['uid', true], ['gid', true]])) + '\n';
		}
		case 'pack': {
			const bytes = await repo.storage.load({type: 'data', name: needId()}, {signal});
			const hash = hashHex(bytes);
			if (hash !== ref) process.stderr.write(`Warning: hash of data does not match ID, want\n  ${ref}\ngot:\n  ${hash}\n`);
			return Buffer.from(bytes);
		}
		case 'blob': {
			const id = needId();
			await repo.loadIndex({signal});
			for (const blobType of ['data', 'tree'] as const) {
				if (repo.index.has(blobType, id)) return repo.loadBlob(blobType, id, signal);
			}
			throw new CairnError('blob not found');
		}
		case 'tree': {
			await repo.loadIndex({signal});
			if (isHexId(ref) && repo.index.has('tree', ref)) return repo.loadBlob('tree', ref, signal);
			const colon = ref.indexOf(':');
			const snapshotRef = colon < 0 ? ref : ref.slice(0, colon);
			const subfolder = colon < 0 ? '' : ref.slice(colon + 1);
			const snapshot = await loadSnapshot(repo, await findSnapshotId(repo, snapshotRef, {}, signal), signal);
			let treeId = snapshot.tree;
			if (subfolder !== '' && subfolder !== '/') {
				const found = await resolvePath(repo, snapshot.tree, subfolder, signal);
				if (!found?.node) throw new CairnError(`path ${subfolder} not found in snapshot ${snapshot.id.slice(0, 8)}`);
				if (found.node.type !== 'dir' || !found.node.subtree) throw new CairnError(`path ${subfolder} is not a directory`);
				treeId = found.node.subtree;
			}
			return repo.loadBlob('tree', treeId, signal);
		}
		default:
			throw new CairnError('invalid type');
	}
}
