/**
 * Single-thread throughput of the chunker's boundary search and of Poly1305, JavaScript against
 * WebAssembly, in one process. Not a test: run by hand after a build,
 *
 *   node dist/bench/kernels.js [--corpus DIR] [--mib N] [--rounds N]
 *
 * Chunking reads up to N MiB (default 384) of the corpus' files into memory first, then splits
 * each file as the backup does (a new chunker per file, ranges of at most 1 MiB), so small files
 * that are never hashed count as they do in a backup. Also shown: the search alone on random
 * data (every byte past the minimum size hashed), Poly1305 on 1 MiB and 4 KiB messages, and
 * sealBytes (AES-256-CTR + Poly1305) on 1 MiB. Figures are MB/s of CPU time, the best of the
 * rounds, because the machine may be shared.
 */
import {randomBytes} from 'node:crypto';
import {promises as fs} from 'node:fs';
import * as path from 'node:path';
import {parseArgs} from 'node:util';
import {Chunker, createChunkerTables} from '../engine/chunker/chunker.js';
import {generateMasterKey, sealBytes} from '../engine/crypto/cipher.js';
import {computePoly1305, computePoly1305Js} from '../engine/crypto/poly1305.js';
import {describeWasmKernels} from '../engine/wasm/load.js';

const MiB = 1024 * 1024;
/** The polynomial of restic's own chunker tests; degree 53 like every one restic creates. */
const POLYNOMIAL = 0x3da3358b4dc173n;
const READ_SIZE = MiB;

const {values} = parseArgs({
	options: {
		corpus: {type: 'string', default: '/tmp/cairn-bench-corpus/data'},
		mib: {type: 'string', default: '384'},
		rounds: {type: 'string', default: '5'},
	},
});
const rounds = Number(values.rounds);

/** Best CPU seconds of `rounds` runs of `run`. */
function measure(run: () => void): number {
	let best = Infinity;
	for (let round = 0; round < rounds; round++) {
		const before = process.cpuUsage();
		run();
		const used = process.cpuUsage(before);
		best = Math.min(best, (used.user + used.system) / 1e6);
	}
	return best;
}

function report(label: string, bytes: number, seconds: number): void {
	console.log(`${label.padEnd(44)} ${(bytes / seconds / 1e6).toFixed(0).padStart(6)} MB/s`);
}

async function readCorpus(dir: string, limit: number): Promise<Uint8Array[]> {
	const files: Uint8Array[] = [];
	let total = 0;
	const walk = async (current: string): Promise<void> => {
		const entries = await fs.readdir(current, {withFileTypes: true});
		entries.sort((a, b) => a.name.localeCompare(b.name));
		for (const entry of entries) {
			if (total >= limit) return;
			const full = path.join(current, entry.name);
			if (entry.isDirectory()) {
				await walk(full);
			} else if (entry.isFile()) {
				const data = await fs.readFile(full);
				const kept = data.subarray(0, Math.min(data.length, limit - total));
				files.push(kept);
				total += kept.length;
			}
		}
	};
	await walk(dir);
	return files;
}

/** Splits each file like the backup's file chunker: ranges of at most READ_SIZE bytes. */
function chunkFiles(files: Uint8Array[], implementation: 'auto' | 'js'): number {
	const tables = createChunkerTables(POLYNOMIAL);
	let chunks = 0;
	for (const file of files) {
		const chunker = new Chunker(tables, {implementation});
		for (let piece = 0; piece < file.length; piece += READ_SIZE) {
			const end = Math.min(piece + READ_SIZE, file.length);
			let pos = piece;
			while (pos < end) {
				const cut = chunker.findSplitPoint(file, pos, end);
				if (cut < 0) break;
				chunks++;
				pos = cut;
			}
		}
		chunks++;
	}
	return chunks;
}

function main(files: Uint8Array[]): void {
	const kernels = describeWasmKernels();
	console.log(`kernels: chunker ${kernels.chunker}; poly1305 ${kernels.poly1305}`);
	const wasmChunker = new Chunker(createChunkerTables(POLYNOMIAL)).implementation;

	const corpusBytes = files.reduce((sum, file) => sum + file.length, 0);
	console.log(`chunking ${files.length} files, ${(corpusBytes / MiB).toFixed(0)} MiB of ${values.corpus}; ${chunkFiles(files, 'js')} chunks (js), ${chunkFiles(files, 'auto')} chunks (${wasmChunker})`);
	report('chunker over the corpus, js', corpusBytes, measure(() => chunkFiles(files, 'js')));
	report(`chunker over the corpus, ${wasmChunker}`, corpusBytes, measure(() => chunkFiles(files, 'auto')));

	// The search alone: with minSize 64 every byte of random data is hashed and checked.
	const random = [randomBytes(64 * MiB)];
	const hashAll = (implementation: 'auto' | 'js') => (): void => {
		const chunker = new Chunker(createChunkerTables(POLYNOMIAL), {minSize: 64, maxSize: 1 << 30, implementation});
		for (const data of random) {
			for (let pos = 0; pos < data.length; ) {
				const cut = chunker.findSplitPoint(data, pos, Math.min(pos + READ_SIZE, data.length));
				pos = cut < 0 ? Math.min(pos + READ_SIZE, data.length) : cut;
			}
		}
	};
	report('rolling hash on random data, js', 64 * MiB, measure(hashAll('js')));
	report(`rolling hash on random data, ${wasmChunker}`, 64 * MiB, measure(hashAll('auto')));

	const key = randomBytes(32);
	for (const size of [MiB, 4096]) {
		const message = randomBytes(size);
		const count = Math.ceil((128 * MiB) / size);
		const run = (mac: (key: Uint8Array, message: Uint8Array) => Uint8Array) => (): void => {
			for (let i = 0; i < count; i++) mac(key, message);
		};
		const label = size >= MiB ? `${size / MiB} MiB` : `${size / 1024} KiB`;
		report(`poly1305 on ${label} messages, js`, count * size, measure(run(computePoly1305Js)));
		report(`poly1305 on ${label} messages, ${kernels.poly1305.split(' ')[0]}`, count * size, measure(run(computePoly1305)));
	}

	const masterKey = generateMasterKey();
	const plaintext = randomBytes(MiB);
	report('sealBytes on 1 MiB (AES-256-CTR + poly1305)', 128 * MiB, measure(() => {
		for (let i = 0; i < 128; i++) sealBytes(masterKey, plaintext);
	}));
}

main(await readCorpus(values.corpus, Number(values.mib) * MiB));
