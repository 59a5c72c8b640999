import {findPatternMatches, IdSearch, type FoundObject} from '../../engine/find/find.js';
import {formatGoFileMode, formatResticLocalTime, normalizeGoTime, typedGoMode} from '../../engine/format/go-values.js';
import type {Snapshot} from '../../engine/format/snapshot.js';
import type {TreeNode} from '../../engine/format/tree.js';
import {decodePackHeader} from '../../engine/format/pack.js';
import {openBytes} from '../../engine/crypto/cipher.js';
import {UsageError, CairnError} from '../../engine/errors.js';
import type {Repository} from '../../engine/repository/repository.js';
import {openRepository, type GlobalFlags} from '../cli/context.js';
import {selectSnapshots, withSharedLock, type LockFlags, type SnapshotFilterFlags} from '../cli/snapshot-select.js';
import {makeTreeLoader} from '../cli/tree-access.js';
import {OutputBuffer} from './snapshots.js';

/** Flags of `cairn find`. */
export interface FindFlags extends GlobalFlags, LockFlags, SnapshotFilterFlags {
	snapshot?: string[];
	oldest?: string;
	newest?: string;
	blob?: boolean;
	tree?: boolean;
	pack?: boolean;
	showPackId?: boolean;
	ignoreCase?: boolean;
	long?: boolean;
}

const TIME_FORMATS: Array<{re: RegExp; order: 'ymd' | 'dmy'}> = [
	{re: /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?(?: ([+-]\d{4}))?$/, order: 'ymd'},
	{re: /^(\d{2})\.(\d{2})\.(\d{4})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?(?: ([+-]\d{4}))?$/, order: 'dmy'},
];

/** Parses the time forms restic's find accepts (local time unless an offset is given); ns since the epoch. */
export function parseFindTime(text: string): bigint {
	for (const {re, order} of TIME_FORMATS) {
		const m = re.exec(text.trim());
		if (!m) continue;
		const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3])];
		const [year, month, day] = order === 'ymd' ? [a, b, c] : [c, b, a];
		const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
		let ms: number;
		if (m[7]) {
			const sign = m[7].startsWith('-') ? -1 : 1;
			const offset = sign * (Number(m[7].slice(1, 3)) * 60 + Number(m[7].slice(3, 5)));
			ms = Date.UTC(year, month - 1, day, hour, minute, second) - offset * 60_000;
		} else {
			ms = new Date(year, month - 1, day, hour, minute, second).getTime();
		}
		if (!Number.isNaN(ms)) return BigInt(ms) * 1_000_000n;
	}
	throw new UsageError(`unable to parse time: ${JSON.stringify(text)}`);
}

/** A node as restic's find prints it in JSON: the node's fields with path and permissions, without name, inode, xattrs, device, content and subtree. */
function toFindJson(p: string, node: TreeNode): Record<string, unknown> {
	const out: Record<string, unknown> = {path: p, permissions: formatGoFileMode(node.mode ?? 0), type: node.type};
	if (node.mode) out.mode = node.mode;
	out.mtime = normalizeGoTime(node.mtime);
	out.atime = normalizeGoTime(node.atime);
	out.ctime = normalizeGoTime(node.ctime);
	out.uid = node.uid;
	out.gid = node.gid;
	if (node.user) out.user = node.user;
	if (node.group) out.group = node.group;
	if (node.device_id) out.device_id = node.device_id;
	if (node.size) out.size = node.size;
	if (node.links) out.links = node.links;
	if (node.linktarget) out.linktarget = node.linktarget;
	if (node.error) out.error = node.error;
	return out;
}

/** restic's long listing line (formatNode). */
export function formatLongNode(p: string, node: TreeNode): string {
	const mode = formatGoFileMode(typedGoMode(node.mode ?? 0, node.type));
	const target = node.type === 'symlink' ? ` -> ${node.linktarget ?? ''}` : '';
	return `${mode} ${String(node.uid).padStart(5)} ${String(node.gid).padStart(5)} ${String(node.size ?? 0).padStart(6)} ${formatResticLocalTime(node.mtime)} ${p}${target}`;
}

/** `cairn find PATTERN...`. */
export async function runFind(args: string[], flags: FindFlags, signal: AbortSignal): Promise<number> {
	if (args.length === 0) throw new CairnError('wrong number of arguments');
	const oldestNs = flags.oldest ? parseFindTime(flags.oldest) : undefined;
	const newestNs = flags.newest ? parseFindTime(flags.newest) : undefined;
	if ([flags.blob, flags.tree, flags.pack].filter(Boolean).length > 1) throw new UsageError('cannot have several ID types');
	const repo = await openRepository(flags, signal);
	try {
		return await withSharedLock(repo, flags, signal, async () => {
			await repo.loadIndex({signal});
			const out = new OutputBuffer();
			const warn = (message: string): void => {
				out.flush();
				process.stderr.write(`${message}\n`);
			};
			const load = makeTreeLoader(repo, signal);
			const ignoreTrees = new Set<string>();
			const onTreeError = (treeId: string, snapshot: Snapshot): void => {
				out.line(`Unable to load tree ${treeId}\n ... which belongs to snapshot ${snapshot.id}`);
			};
			let search: IdSearch | undefined;
			if (flags.blob) search = new IdSearch({blobIds: args});
			if (flags.tree) search = new IdSearch({treeIds: args});
			if (flags.pack) search = new IdSearch({blobIds: await blobsOfPacks(repo, args, warn, signal)});
			const snapshots = await selectSnapshots(repo, flags.snapshot ?? [], flags, warn, signal);
			const printer = new FindPrinter(out, Boolean(flags.json), Boolean(flags.long), Boolean(flags.quiet));
			try {
				for (const snapshot of snapshots) {
					printer.startSnapshot(snapshot);
					if (search) {
						await search.searchSnapshot(load, snapshot.tree, ignoreTrees, (found) => printer.printObject(found, snapshot), (id) => onTreeError(id, snapshot));
					} else {
						await findPatternMatches(load, snapshot.tree, {patterns: args, ignoreCase: flags.ignoreCase, oldestNs, newestNs}, ignoreTrees, (p, node) => printer.printMatch(p, node), (id) => onTreeError(id, snapshot));
					}
				}
				printer.finish();
				if (flags.showPackId && search) {
					for (const id of search.blobIds ?? []) printObjectPack(repo, out, id, 'data');
					for (const id of search.treeIds ?? []) printObjectPack(repo, out, id, 'tree');
				}
			} finally {
				out.flush();
			}
			return 0;
		});
	} finally {
		await repo.close();
	}
}

/** Prints matches in restic's text or JSON layout, grouped by snapshot. */
class FindPrinter {
	private inUse = false;
	private current?: Snapshot;
	private printedFor?: Snapshot;
	private hits = 0;

	constructor(private readonly out: OutputBuffer, private readonly json: boolean, private readonly long: boolean, private readonly quiet: boolean) {}

	startSnapshot(snapshot: Snapshot): void {
		this.current = snapshot;
	}

	private write(text: string): void {
		this.out.line(text);
	}

	printMatch(p: string, node: TreeNode): void {
		if (!this.json) {
			if (this.current !== this.printedFor) {
				if (this.printedFor && !this.quiet) this.write('');
				this.printedFor = this.current;
				if (!this.quiet) this.write(`Found matching entries in snapshot ${this.current!.id.slice(0, 8)} from ${formatResticLocalTime(this.current!.time)}`);
			}
			this.write(this.long ? formatLongNode(p, node) : p);
			return;
		}
		let text = '';
		if (!this.inUse) {
			text += '[';
			this.inUse = true;
		}
		if (this.current !== this.printedFor) {
			if (this.printedFor) text += `],"hits":${this.hits},"snapshot":${JSON.stringify(this.printedFor.id)}},`;
			text += '{"matches":[';
			this.printedFor = this.current;
			this.hits = 0;
		}
		if (this.hits > 0) text += ',';
		this.appendRaw(text + JSON.stringify(toFindJson(p, node)));
		this.hits++;
	}

	printObject(found: FoundObject, snapshot: Snapshot): void {
		if (!this.json) {
			const lines = [`Found ${found.kind} ${found.id}`];
			if (found.kind === 'blob') lines.push(` ... in file ${found.path}`, `     (tree ${found.parentTree})`);
			else lines.push(` ... path ${found.path}`);
			lines.push(` ... in snapshot ${snapshot.id.slice(0, 8)} (${formatResticLocalTime(snapshot.time)})`);
			for (const line of lines) this.write(line);
			return;
		}
		let text = '';
		if (!this.inUse) {
			text += '[';
			this.inUse = true;
		}
		if (this.hits > 0) text += ',';
		const doc: Record<string, unknown> = {object_type: found.kind, id: found.id, path: found.path};
		if (found.parentTree) doc.parent_tree = found.parentTree;
		doc.snapshot = snapshot.id;
		doc.time = normalizeGoTime(snapshot.time);
		this.appendRaw(text + JSON.stringify(doc));
		this.hits++;
	}

	/** JSON output is one line: pieces are joined without line breaks. */
	private pending = '';
	private appendRaw(text: string): void {
		this.pending += text;
		// Large results go out in pieces instead of piling up in memory.
		if (this.pending.length >= 64 * 1024) {
			this.out.flush();
			process.stdout.write(this.pending);
			this.pending = '';
		}
	}

	finish(): void {
		if (!this.json) return;
		let text = this.pending;
		if (this.printedFor) text += `],"hits":${this.hits},"snapshot":${JSON.stringify(this.printedFor.id)}}`;
		text += this.inUse ? ']' : '[]';
		this.write(text);
		this.pending = '';
	}
}

function printObjectPack(repo: Repository, out: OutputBuffer, id: string, type: 'data' | 'tree'): void {
	if (!/^[0-9a-f]{64}$/.test(id)) {
		out.line(`Note: cannot find pack for object '${id}', unable to parse ID: invalid length for ID: ${JSON.stringify(id)}`);
		return;
	}
	const location = repo.index.lookup(type, id);
	if (!location) {
		out.line(`Object ${id.slice(0, 8)} not found in the index`);
		return;
	}
	const blob = `<Blob (${type}) ${id.slice(0, 8)}, offset ${location.offset}, length ${location.length}, uncompressed length ${location.uncompressedLength}>`;
	out.line(`Object belongs to pack ${location.packId}\n ... Pack ${location.packId.slice(0, 8)}: ${blob}`);
}

/** The blob IDs in the given packs (full or 8-digit IDs): from the pack headers, else from the index. */
async function blobsOfPacks(repo: Repository, packs: readonly string[], warn: (m: string) => void, signal: AbortSignal): Promise<string[]> {
	const wanted = new Set(packs);
	const blobs: string[] = [];
	for await (const info of repo.storage.list('data', {signal})) {
		const key = wanted.has(info.name) ? info.name : wanted.has(info.name.slice(0, 8)) ? info.name.slice(0, 8) : undefined;
		if (key === undefined) continue;
		wanted.delete(key);
		for (const blob of await readPackHeader(repo, info.name, info.size, signal)) blobs.push(blob.id);
		if (wanted.size === 0) break;
	}
	if (wanted.size > 0) {
		const fromIndex = new Set<string>();
		const keyOf = (packId: string): string | undefined => (wanted.has(packId) ? packId : wanted.has(packId.slice(0, 8)) ? packId.slice(0, 8) : undefined);
		for (const {id, location} of repo.index.entries()) {
			if (keyOf(location.packId) === undefined && !fromIndex.has(location.packId)) continue;
			blobs.push(id);
			fromIndex.add(location.packId);
		}
		for (const packId of fromIndex) {
			const key = keyOf(packId);
			if (key !== undefined) wanted.delete(key);
		}
		if (fromIndex.size > 0) warn(`some pack files are missing from the repository, getting their blobs from the repository index: [${[...fromIndex].join(' ')}]\n`);
	}
	if (wanted.size > 0) throw new CairnError(`unable to find pack(s): [${[...wanted].sort().join(' ')}]`);
	return blobs;
}

async function readPackHeader(repo: Repository, packId: string, size: number, signal: AbortSignal): Promise<ReturnType<typeof decodePackHeader>> {
	const handle = {type: 'data' as const, name: packId};
	const tail = await repo.storage.load(handle, {offset: size - 4, length: 4, signal});
	const headerLength = Buffer.from(tail).readUInt32LE(0);
	const header = await repo.storage.load(handle, {offset: size - 4 - headerLength, length: headerLength, signal});
	return decodePackHeader(openBytes(repo.key, header));
}
