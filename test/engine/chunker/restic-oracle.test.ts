import {execFile} from 'node:child_process';
import {createHash} from 'node:crypto';
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {Chunker, MAX_CHUNK_SIZE, createChunkerTables, splitBuffer, splitStream} from '../../../engine/chunker/chunker.js';
import {degreeOf, formatPolynomial, isIrreducible, parsePolynomial} from '../../../engine/chunker/polynomial.js';
import {seededBytes} from './reference.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;

interface TreeNode {
	name: string;
	type: string;
	subtree?: string;
	content?: string[] | null;
}

/** Test files, by name; restic backs each up as one file node. */
function buildFiles(): Map<string, Uint8Array> {
	const repetitive = new Uint8Array(20 * MiB);
	const pattern = new TextEncoder().encode('cairn repetitive ');
	for (let off = 8 * MiB; off < repetitive.length; off++) {
		repetitive[off] = pattern[off % pattern.length]!;
	}
	return new Map<string, Uint8Array>([
		['random.bin', seededBytes('cairn restic oracle', 40 * MiB)],
		['repetitive.bin', repetitive],
		['zeros-max.bin', new Uint8Array(MAX_CHUNK_SIZE)],
		['small.txt', new TextEncoder().encode('a small file, far below the minimum chunk size\n')],
	]);
}

function blobIds(data: Uint8Array, lengths: number[]): string[] {
	let off = 0;
	return lengths.map((length) => {
		const id = createHash('sha256').update(data.subarray(off, off + length)).digest('hex');
		off += length;
		return id;
	});
}

describe('chunk boundaries agree with restic 0.14', () => {
	let dir = '';
	const files = buildFiles();
	let polynomialHex = '';
	const resticContent = new Map<string, string[]>();

	async function restic(...args: string[]): Promise<string> {
		const env = {...process.env, RESTIC_PASSWORD: 'x', RESTIC_REPOSITORY: join(dir, 'repo'), RESTIC_CACHE_DIR: join(dir, 'cache')};
		const {stdout} = await run('restic', args, {env, maxBuffer: 64 * MiB});
		return stdout;
	}

	async function collectFileNodes(treeId: string): Promise<void> {
		const tree = JSON.parse(await restic('cat', 'blob', treeId)) as {nodes: TreeNode[]};
		for (const node of tree.nodes) {
			if (node.type === 'dir' && node.subtree !== undefined) {
				await collectFileNodes(node.subtree);
			} else if (node.type === 'file') {
				resticContent.set(node.name, node.content ?? []);
			}
		}
	}

	beforeAll(async () => {
		dir = await mkdtemp(join(tmpdir(), 'cairn-chunker-'));
		const dataDir = join(dir, 'data');
		await mkdir(dataDir);
		for (const [name, bytes] of files) {
			await writeFile(join(dataDir, name), bytes);
		}
		await restic('init');
		await restic('backup', '--quiet', dataDir);
		polynomialHex = (JSON.parse(await restic('cat', 'config')) as {chunker_polynomial: string}).chunker_polynomial;
		const snapshots = JSON.parse(await restic('snapshots', '--json')) as Array<{tree: string}>;
		expect(snapshots).toHaveLength(1);
		await collectFileNodes(snapshots[0]!.tree);
	});

	afterAll(async () => {
		if (dir !== '') {
			await rm(dir, {recursive: true, force: true});
		}
	});

	it('reads an irreducible degree-53 polynomial from restic and formats it back identically', () => {
		const pol = parsePolynomial(polynomialHex);
		expect(formatPolynomial(pol)).toBe(polynomialHex);
		expect(degreeOf(pol)).toBe(53);
		expect(isIrreducible(pol)).toBe(true);
	});

	it('finds every test file in the snapshot', () => {
		expect([...resticContent.keys()].sort()).toEqual([...files.keys()].sort());
	});

	it.each(['random.bin', 'repetitive.bin', 'zeros-max.bin', 'small.txt'])('produces restic\'s blob IDs for %s', (name) => {
		const data = files.get(name)!;
		const tables = createChunkerTables(parsePolynomial(polynomialHex));
		const ours = blobIds(data, splitBuffer(tables, data));
		expect(ours).toEqual(resticContent.get(name));
	});

	it.each(['random.bin', 'repetitive.bin', 'zeros-max.bin'])('produces restic\'s blob IDs for %s with both the WebAssembly and the JavaScript search', (name) => {
		const data = files.get(name)!;
		const tables = createChunkerTables(parsePolynomial(polynomialHex));
		expect(new Chunker(tables).implementation).toBe('wasm');
		for (const implementation of ['auto', 'js'] as const) {
			expect(blobIds(data, splitBuffer(tables, data, {implementation}))).toEqual(resticContent.get(name));
		}
	});

	it('exercises forced cuts at MaxSize on the repetitive file', () => {
		// The 17-byte period gives only 17 distinct window fingerprints; the chance that one of
		// them matches the 20-bit split mask for restic's random polynomial is about 1.6e-5.
		const data = files.get('repetitive.bin')!;
		const lengths = splitBuffer(createChunkerTables(parsePolynomial(polynomialHex)), data);
		expect(lengths).toContain(MAX_CHUNK_SIZE);
	});

	it('produces restic\'s blob IDs when streaming the random file', async () => {
		const data = files.get('random.bin')!;
		const tables = createChunkerTables(parsePolynomial(polynomialHex));
		async function* pieces(): AsyncGenerator<Uint8Array> {
			for (let off = 0; off < data.length; off += 777_777) {
				yield data.subarray(off, Math.min(off + 777_777, data.length));
			}
		}
		const ids: string[] = [];
		for await (const chunk of splitStream(tables, pieces())) {
			ids.push(createHash('sha256').update(chunk).digest('hex'));
		}
		const expected = resticContent.get('random.bin')!;
		expect(expected.length).toBeGreaterThan(20);
		expect(ids).toEqual(expected);
	});
});
