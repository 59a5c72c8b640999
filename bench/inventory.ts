/**
 * Listing a tree (files with sizes, symlinks with targets), reading it to warm the page cache,
 * and hashing a sample of its files.
 */
import {createHash} from 'node:crypto';
import {promises as fs} from 'node:fs';
import * as path from 'node:path';

/** What a tree holds. Paths are relative to its root, with `/` separators. */
export interface Inventory {
	files: Map<string, number>;
	symlinks: Map<string, string>;
	dirs: number;
	bytes: number;
}

/** Files hashed by {@link chooseSample}: about this many spread over the tree, plus every large file. */
const SAMPLE_COUNT = 200;
const LARGE_FILE = 16 * 1024 * 1024;

/** Runs `fn` over items with at most `limit` at once. */
async function forEachConcurrent<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
	let next = 0;
	const worker = async (): Promise<void> => {
		while (next < items.length) await fn(items[next++]!);
	};
	await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker));
}

/** Lists the tree below `root` (which must exist). Other kinds of entries are ignored. */
export async function takeInventory(root: string): Promise<Inventory> {
	const inventory: Inventory = {files: new Map(), symlinks: new Map(), dirs: 0, bytes: 0};
	const visit = async (rel: string): Promise<void> => {
		const entries = await fs.readdir(path.join(root, rel), {withFileTypes: true});
		await forEachConcurrent(entries, 16, async (entry) => {
			const childRel = rel ? `${rel}/${entry.name}` : entry.name;
			const abs = path.join(root, childRel);
			if (entry.isDirectory()) {
				inventory.dirs++;
				await visit(childRel);
			} else if (entry.isSymbolicLink()) {
				inventory.symlinks.set(childRel, await fs.readlink(abs));
			} else if (entry.isFile()) {
				const {size} = await fs.lstat(abs);
				inventory.files.set(childRel, size);
				inventory.bytes += size;
			}
		});
	};
	await visit('');
	return inventory;
}

/** Reads every file once so that the timed runs all start from a warm page cache. */
export async function warmUp(root: string, inventory: Inventory): Promise<void> {
	const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
	for (const rel of inventory.files.keys()) {
		const handle = await fs.open(path.join(root, rel), 'r');
		try {
			while ((await handle.read(buffer, 0, buffer.length, null)).bytesRead > 0) {
				// discard
			}
		} finally {
			await handle.close();
		}
	}
}

/** Picks files to hash: evenly spaced in path order, plus every file of 16 MiB or more. */
export function chooseSample(inventory: Inventory): string[] {
	const names = [...inventory.files.keys()].sort();
	const step = Math.max(1, Math.ceil(names.length / SAMPLE_COUNT));
	return names.filter((name, i) => i % step === 0 || inventory.files.get(name)! >= LARGE_FILE);
}

/** SHA-256 of a file, hex. */
export async function hashFile(file: string): Promise<string> {
	const hash = createHash('sha256');
	const handle = await fs.open(file, 'r');
	const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
	try {
		for (;;) {
			const {bytesRead} = await handle.read(buffer, 0, buffer.length, null);
			if (bytesRead === 0) break;
			hash.update(buffer.subarray(0, bytesRead));
		}
	} finally {
		await handle.close();
	}
	return hash.digest('hex');
}

/** Hashes the given files below `root`; a file that cannot be read maps to an error text. */
export async function hashFiles(root: string, names: readonly string[]): Promise<Map<string, string>> {
	const hashes = new Map<string, string>();
	await forEachConcurrent(names, 4, async (name) => {
		hashes.set(name, await hashFile(path.join(root, name)).catch((error: Error) => `unreadable: ${error.message}`));
	});
	return hashes;
}
