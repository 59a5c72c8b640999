/**
 * `restore --verify`: reads restored files back and checks them against the snapshot, as restic's
 * VerifyFiles does: the size must match, and each stretch of the file must hash to the data blob
 * the snapshot lists at that place.
 */
import {open} from 'node:fs/promises';
import {createHash} from 'node:crypto';
import type {TreeNode} from '../format/tree.js';
import {CancelledError} from '../errors.js';
import {mapConcurrent} from '../util/concurrency.js';
import type {Repository} from '../repository/repository.js';

/** Files read back at once. */
const VERIFY_CONCURRENCY = 4;

/** Checks each file; reports each mismatch through `onError` and resolves with the number of files checked. */
export async function verifyRestoredFiles(
	repo: Repository,
	files: ReadonlyArray<{rel: string; dest: string; node: TreeNode}>,
	options: {signal?: AbortSignal; onError: (rel: string, message: string) => void},
): Promise<number> {
	await mapConcurrent(files, VERIFY_CONCURRENCY, async (file) => {
		if (options.signal?.aborted) throw new CancelledError('verification cancelled: the restored files are complete but were not all checked');
		const problem = await verifyFile(repo, file.dest, file.node);
		if (problem) options.onError(file.rel, problem);
	});
	return files.length;
}

/** Undefined when the file matches its node, else what is wrong. */
export async function verifyFile(repo: Repository, dest: string, node: TreeNode): Promise<string | undefined> {
	let handle;
	try {
		handle = await open(dest, 'r');
	} catch (error) {
		return `cannot verify: ${(error as Error).message}`;
	}
	try {
		const stats = await handle.stat();
		if (stats.size !== (node.size ?? 0)) return `Invalid file size for ${dest}: expected ${node.size ?? 0}, got ${stats.size}`;
		let offset = 0;
		let buffer = Buffer.alloc(0);
		for (const id of node.content ?? []) {
			const location = repo.index.lookup('data', id);
			if (!location) return `cannot verify: data blob ${id} is missing from the index`;
			const length = location.uncompressedLength || location.length - 32;
			if (buffer.length < length) buffer = Buffer.alloc(length);
			let got = 0;
			while (got < length) {
				const {bytesRead} = await handle.read(buffer, got, length - got, offset + got);
				if (bytesRead === 0) break;
				got += bytesRead;
			}
			if (got < length) return `Invalid file size for ${dest}: it ends at ${offset + got} bytes`;
			const actual = createHash('sha256').update(buffer.subarray(0, length)).digest('hex');
			if (actual !== id) return `Unexpected content in ${dest} at offset ${offset}: expected blob ${id}, got ${actual}`;
			offset += length;
		}
		return undefined;
	} finally {
		await handle.close();
	}
}
