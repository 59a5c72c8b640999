/**
 * restic's `dump`: a file's contents, or a directory as a tar or zip stream, written to a sink.
 * File data is read blob by blob (a few loads ahead) and written as it arrives, so memory stays
 * bounded by a handful of blobs whatever the file's size.
 */
import type {TreeNode} from '../format/tree.js';
import {goModeToUnixPermissions} from '../format/mode.js';
import {parseGoTime} from '../format/time.js';
import {walkRestic, type TreeLoader} from '../walker/walker.js';
import type {ByteSink} from './sink.js';
import {TarWriter} from './tar.js';
import {ZipWriter, type ZipEntry} from './zip.js';

/** Loads a data blob's plaintext. */
export type BlobLoader = (id: string) => Promise<Uint8Array>;

/** The archive formats. */
export const ARCHIVE_FORMATS = ['tar', 'zip'] as const;
export type ArchiveFormat = typeof ARCHIVE_FORMATS[number];

/** Data blobs loaded ahead of the one being written. */
const READ_AHEAD = 4;

/**
 * Streams the contents of a file node: calls `write` for each blob in order. At most
 * READ_AHEAD + 1 blobs are held at once.
 */
export async function streamFileContent(node: TreeNode, loadBlob: BlobLoader, write: (bytes: Uint8Array) => Promise<void>, signal?: AbortSignal): Promise<number> {
	const ids = node.content ?? [];
	const pending: Array<Promise<Uint8Array>> = [];
	let next = 0;
	let written = 0;
	const fill = (): void => {
		while (pending.length <= READ_AHEAD && next < ids.length) {
			const promise = loadBlob(ids[next++]!);
			promise.catch(() => undefined);
			pending.push(promise);
		}
	};
	fill();
	while (pending.length > 0) {
		signal?.throwIfAborted();
		const bytes = await pending.shift()!;
		fill();
		await write(bytes);
		written += bytes.length;
	}
	return written;
}

function nsOf(text: string): bigint | undefined {
	try {
		return parseGoTime(text);
	} catch {
		return undefined;
	}
}

function roundToSecond(ns: bigint): bigint {
	const second = 1_000_000_000n;
	const floor = ns >= 0n ? ns / second : -((-ns + second - 1n) / second);
	return (ns - floor * second >= second / 2n ? floor + 1n : floor) * second;
}

function wallClockOf(text: string): ZipEntry['wallClock'] {
	const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})/.exec(text);
	if (!m) return {year: 1980, month: 1, day: 1, hour: 0, minute: 0, second: 0};
	const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
	return {year, month, day, hour, minute, second};
}

function xattrRecords(node: TreeNode): Array<[string, Uint8Array]> {
	const records: Array<[string, Uint8Array]> = [];
	for (const attr of node.extended_attributes ?? []) {
		// restic turns POSIX ACLs into SCHILY.acl.* text; cairn leaves them out of the archive.
		if (attr.name.startsWith('system.posix_acl_')) continue;
		records.push([`SCHILY.xattr.${attr.name}`, Buffer.from(attr.value ?? '', 'base64')]);
	}
	return records.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Options of {@link dumpArchive}. */
export interface DumpArchiveOptions {
	format: ArchiveFormat;
	loadTree: TreeLoader;
	loadBlob: BlobLoader;
	signal?: AbortSignal;
}

/**
 * Writes the nodes of a directory listing (and everything below them) as an archive: paths are
 * `rootPath/<name>/...` without the leading slash, as restic names them. Only files, directories
 * and symlinks below the top level are included, as in restic.
 */
export async function dumpArchive(nodes: readonly TreeNode[], rootPath: string, sink: ByteSink, options: DumpArchiveOptions): Promise<void> {
	const tar = options.format === 'tar' ? new TarWriter(sink) : undefined;
	const zip = options.format === 'zip' ? new ZipWriter(sink) : undefined;
	const writeNode = async (node: TreeNode, fullPath: string): Promise<void> => {
		options.signal?.throwIfAborted();
		let name = fullPath.replace(/^\/+/, '');
		if (node.type === 'dir') name += '/';
		const type = node.type === 'dir' ? 'dir' : node.type === 'symlink' ? 'symlink' : 'file';
		const mode = goModeToUnixPermissions(node.mode ?? 0);
		const size = node.type === 'file' ? node.size ?? 0 : 0;
		if (tar) {
			await tar.addEntry({
				name, type, mode, uid: node.uid, gid: node.gid, uname: node.user, gname: node.group, size,
				// As restic (Go's tar with no format chosen): the mtime rounded to the second, no atime or ctime.
				mtimeNs: roundToSecond(nsOf(node.mtime) ?? 0n),
				linkname: node.type === 'symlink' ? node.linktarget ?? '' : undefined, extra: xattrRecords(node),
			});
			if (node.type === 'file') await checkSize(node, fullPath, await streamFileContent(node, options.loadBlob, (b) => tar.writeData(b), options.signal));
			return;
		}
		const mtime = nsOf(node.mtime) ?? 0n;
		const entry: ZipEntry = {name, type, mode, mtimeSeconds: Number(mtime / 1_000_000_000n), wallClock: wallClockOf(node.mtime)};
		if (node.type === 'symlink') {
			const target = Buffer.from(node.linktarget ?? '', 'utf8');
			await zip!.addEntry(entry, target.length);
			await zip!.writeData(target);
			return;
		}
		await zip!.addEntry(entry, size);
		if (node.type === 'file') await checkSize(node, fullPath, await streamFileContent(node, options.loadBlob, (b) => zip!.writeData(b), options.signal));
	};
	for (const root of nodes) {
		const rootNodePath = rootPath === '/' ? `/${root.name}` : `${rootPath}/${root.name}`;
		await writeNode(root, rootNodePath);
		if (root.type !== 'dir' || !root.subtree) continue;
		await walkRestic(options.loadTree, root.subtree, async (_parent, nodePath, node, error) => {
			if (error) throw error;
			if (!node) return {ignore: false};
			if (node.type === 'file' || node.type === 'dir' || node.type === 'symlink') await writeNode(node, `${rootNodePath}${nodePath}`);
			return {ignore: false};
		});
	}
	if (tar) await tar.close();
	else await zip!.close();
}

async function checkSize(node: TreeNode, p: string, written: number): Promise<void> {
	if (written !== (node.size ?? 0)) throw new Error(`${p}: its contents have ${written} bytes but the snapshot records ${node.size ?? 0}`);
}

/** Splits a dump path as restic does: `path.Clean`, then components (the root gives [""]). */
export function splitDumpPath(p: string): string[] {
	const parts = cleanSlashPath(p).split('/').filter((part) => part !== '');
	return parts.length === 0 ? [''] : parts;
}

function cleanSlashPath(p: string): string {
	const rooted = p.startsWith('/');
	const out: string[] = [];
	for (const part of p.split('/')) {
		if (part === '' || part === '.') continue;
		if (part === '..') {
			if (out.length && out.at(-1) !== '..') out.pop();
			else if (!rooted) out.push('..');
			continue;
		}
		out.push(part);
	}
	return (rooted ? '/' : '') + out.join('/');
}

/** What a dump path names. */
export type DumpTarget =
	| {kind: 'file'; node: TreeNode; path: string}
	| {kind: 'dir'; nodes: readonly TreeNode[]; path: string};

/**
 * Resolves a dump path in a snapshot's root tree as restic's dump does: the root or a directory
 * becomes an archive, a file its contents; anything else is an error naming the item.
 */
export async function resolveDumpPath(loadTree: TreeLoader, rootTree: string, p: string): Promise<DumpTarget> {
	const components = splitDumpPath(p);
	let nodes = await loadTree(rootTree);
	if (components[0] === '') return {kind: 'dir', nodes, path: '/'};
	let prefix = '/';
	for (let i = 0; i < components.length; i++) {
		const name = components[i]!;
		const item = prefix === '/' ? `/${name}` : `${prefix}/${name}`;
		const last = i === components.length - 1;
		const node = nodes.find((n) => n.name === name);
		if (!node) throw new Error(`path "${item}" not found in snapshot`);
		if (last && node.type === 'file') return {kind: 'file', node, path: item};
		if (node.type === 'dir' && node.subtree) {
			nodes = await loadTree(node.subtree);
			if (last) return {kind: 'dir', nodes, path: item};
			prefix = item;
			continue;
		}
		if (!last) throw new Error(`"${item}" should be a dir, but is a "${node.type}"`);
		throw new Error(`"${item}" should be a file, but is a "${node.type}"`);
	}
	throw new Error(`path "${p}" not found in snapshot`);
}
