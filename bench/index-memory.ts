/**
 * Measures the in-memory index: bytes per blob, insert time and lookup time, for the compact
 * MasterIndex against the Map-of-objects index it replaced (kept below as `MapIndex`).
 *
 *   node --expose-gc dist/bench/index-memory.js [--blobs 1000000,10000000] [--packs 100000]
 *       [--rounds 2] [--repo DIR]   (with CAIRN_PASSWORD set for --repo)
 *
 * Each (index, size) pair runs in a fresh child process (`--expose-gc`, a large heap limit), so
 * one measurement's garbage cannot skew another's. In the child:
 * - bytes per blob: `heapUsed + arrayBuffers` from `process.memoryUsage()` after a full GC, less
 *   the same before the index was built, divided by the number of blobs. The synthetic blobs
 *   (random IDs, 1 in 10 a tree, compressed lengths) are generated pack by pack and dropped, so
 *   only the index stays reachable.
 * - insert: time spent in `addPack` only (not in generating the packs), per million blobs.
 * - lookup: `has` and `lookup` of 1M IDs that are present (regenerated from the same seed) and
 *   1M random IDs that are not, ns per call, each call on a fresh hex string made from the ID's
 *   bytes (the cost of making it alone is shown as "hex"); `hasBinary` on the bytes; `entries()`
 *   over the whole index, ns per blob; and three ways of turning hex into bytes.
 * Of `--rounds` children per pair, the lowest times are kept (the machine may be shared); the
 * memory figure is the same every round.
 *
 * With `--repo`, the index of a real repository is loaded (`Repository.loadIndex`, which reads,
 * decrypts and parses every index file) and, separately, its already-parsed packs are added to
 * each index kind, best of 5.
 *
 * Measured 2025-11-22 on the 2-core shared VM (Node 20.20, load 5 to 7 from other work, so the
 * times are best of 3 children and only indicative), 100,000 packs:
 *
 *   index    blobs  bytes/blob  insert ms/M  has hit  has miss  lookup hit  lookup miss  entries
 *   map       1M       215.8       1527        842      947        707         911          69
 *   compact   1M        72.5        334        237      217        238         223         127
 *   map      10M       233.8       1847        714     1170        812        1062         104
 *   compact  10M        57.3        497        256      474        243         491         134
 *
 * (ns per call, each including about 90 ns to make the hex string.) At 1M, 100,000 packs add
 * about 13 bytes a blob of pack IDs; at 10M, 1.3. `hasBinary` at 10M: hit 218, miss 305 ns.
 * Hex to bytes, ns per ID: decodeHexId 124 to 177, Buffer.from 135 to 143, Buffer#write into a
 * scratch buffer 100 to 113 (it accepts uppercase, so it would change which strings match); the
 * table itself decodes 8 digits to a word at a time, about a fifth faster than decodeHexId.
 * The cairn repository of the 1 GiB corpus (24,333 blobs, 27 packs): loadIndex 21.5 ms, of
 * which adding the parsed packs takes 2.9 ms (map) or 3.8 ms (compact); `check` and `snapshots`
 * showed no difference beyond noise.
 */
import {spawnSync} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {fileURLToPath} from 'node:url';
import {createLocalStorage} from '../adapters/local.js';
import type {PackEntry} from '../engine/format/index-file.js';
import {decodeIndexFile} from '../engine/format/index-file.js';
import type {BlobType, PackedBlob} from '../engine/format/pack.js';
import {decodeHexId} from '../engine/repository/blob-table.js';
import {MasterIndex, type BlobLocation} from '../engine/repository/master-index.js';
import {Repository} from '../engine/repository/repository.js';

/** The index as it was before the compact table: one Map entry and one object per blob. */
class MapIndex {
	private readonly data = new Map<string, BlobLocation>();
	private readonly trees = new Map<string, BlobLocation>();
	private readonly packs = new Map<string, number>();

	addPack(entry: PackEntry): void {
		if (!this.packs.has(entry.packId)) this.packs.set(entry.packId, entry.blobs.length);
		for (const blob of entry.blobs) {
			const map = blob.type === 'tree' ? this.trees : this.data;
			if (!map.has(blob.id)) map.set(blob.id, {packId: entry.packId, offset: blob.offset, length: blob.length, uncompressedLength: blob.uncompressedLength});
		}
	}

	lookup(type: BlobType, id: string): BlobLocation | undefined {
		return (type === 'tree' ? this.trees : this.data).get(id);
	}

	has(type: BlobType, id: string): boolean {
		return (type === 'tree' ? this.trees : this.data).has(id);
	}

	*entries(): IterableIterator<{type: BlobType; id: string; location: BlobLocation}> {
		for (const [id, location] of this.data) yield {type: 'data', id, location};
		for (const [id, location] of this.trees) yield {type: 'tree', id, location};
	}
}

type Kind = 'map' | 'compact';
type AnyIndex = Pick<MasterIndex, 'addPack' | 'lookup' | 'has' | 'entries'>;

function createIndex(kind: Kind): AnyIndex {
	return kind === 'map' ? new MapIndex() : new MasterIndex();
}

/** A deterministic stream of 32-byte IDs (xorshift32; distinct for far more IDs than used here). */
class IdStream {
	private readonly words = new Uint32Array(8);
	private readonly bytes = Buffer.from(this.words.buffer);
	constructor(private state: number) {}

	next(): string {
		let s = this.state;
		for (let i = 0; i < 8; i++) {
			s ^= s << 13;
			s ^= s >>> 17;
			s ^= s << 5;
			this.words[i] = s;
		}
		this.state = s;
		return this.bytes.toString('hex');
	}
}

const BLOB_SEED = 0x2545f491;
const PACK_SEED = 0x9e3779b9;

/** The packs of the synthetic index, one at a time; `onBlob` sees every blob in order. */
function* generatePacks(blobs: number, packs: number): Generator<PackEntry> {
	const ids = new IdStream(BLOB_SEED);
	const packIds = new IdStream(PACK_SEED);
	let made = 0;
	for (let p = 0; p < packs; p++) {
		const count = Math.floor(((p + 1) * blobs) / packs) - made;
		const list: PackedBlob[] = [];
		let offset = 0;
		for (let b = 0; b < count; b++) {
			const length = 1000 + ((made + b) * 7919) % 1_000_000;
			list.push({type: (made + b) % 10 === 0 ? 'tree' : 'data', id: ids.next(), offset, length, uncompressedLength: length * 2});
			offset += length;
		}
		made += count;
		yield {packId: packIds.next(), blobs: list};
	}
}

function gc(): void {
	const collect = (globalThis as {gc?: () => void}).gc;
	if (!collect) throw new Error('run with node --expose-gc');
	collect();
	collect();
}

function usedBytes(): number {
	const usage = process.memoryUsage();
	return usage.heapUsed + usage.arrayBuffers;
}

function nsSince(start: bigint): number {
	return Number(process.hrtime.bigint() - start);
}

/** Best of `rounds` timings of `run` over `count` operations, in ns per operation. */
function timePer(count: number, rounds: number, run: () => number): {ns: number; check: number} {
	let best = Infinity;
	let check = 0;
	for (let round = 0; round < rounds; round++) {
		const start = process.hrtime.bigint();
		check = run();
		best = Math.min(best, nsSince(start) / count);
	}
	return {ns: best, check};
}

interface ChildResult {
	kind: Kind;
	blobs: number;
	packs: number;
	bytesPerBlob: number;
	insertMsPerMillion: number;
	hasHitNs: number;
	hasMissNs: number;
	lookupHitNs: number;
	lookupMissNs: number;
	entriesNs: number;
	/** Making the hex string alone, included in the has/lookup figures. */
	hexNs: number;
	/** `hasBinary` (compact index only). */
	binary?: {hasHitNs: number; hasMissNs: number};
	decode?: {handNs: number; bufferFromNs: number; bufferWriteNs: number};
}

function runChild(kind: Kind, blobs: number, packs: number): ChildResult {
	gc();
	const before = usedBytes();
	let index: AnyIndex | undefined = createIndex(kind);
	let insertNs = 0;
	for (const pack of generatePacks(blobs, packs)) {
		const start = process.hrtime.bigint();
		index.addPack(pack);
		insertNs += nsSince(start);
	}
	gc();
	const bytesPerBlob = (usedBytes() - before) / blobs;

	// Present IDs: every k-th blob of the same stream, with its type; absent IDs: random. Both are
	// kept as bytes and turned into a fresh hex string per call, as callers do (a digest turned
	// into hex): a string already used as a Map key has its hash cached, which would flatter Map.
	const probes = Math.min(1_000_000, blobs);
	const step = Math.floor(blobs / probes);
	const hitBytes = Buffer.alloc(32 * probes);
	const hitTypes: BlobType[] = [];
	const stream = new IdStream(BLOB_SEED);
	for (let n = 0; n < blobs && hitTypes.length < probes; n++) {
		const id = stream.next();
		if (n % step !== 0) continue;
		hitBytes.write(id, hitTypes.length * 32, 'hex');
		hitTypes.push(n % 10 === 0 ? 'tree' : 'data');
	}
	const missBytes = randomBytes(32 * probes);

	const idx = index;
	const hexOnly = timePer(probes, 3, () => {
		let sum = 0;
		for (let n = 0; n < probes; n++) sum += hitBytes.toString('hex', n * 32, n * 32 + 32).length;
		return sum;
	});
	const hasHit = timePer(probes, 3, () => {
		let found = 0;
		for (let n = 0; n < probes; n++) if (idx.has(hitTypes[n]!, hitBytes.toString('hex', n * 32, n * 32 + 32))) found++;
		return found;
	});
	if (hasHit.check !== probes) throw new Error(`only ${hasHit.check} of ${probes} present IDs were found`);
	const hasMiss = timePer(probes, 3, () => {
		let found = 0;
		for (let n = 0; n < probes; n++) if (idx.has('data', missBytes.toString('hex', n * 32, n * 32 + 32))) found++;
		return found;
	});
	if (hasMiss.check !== 0) throw new Error(`${hasMiss.check} absent IDs were found`);
	const lookupHit = timePer(probes, 3, () => {
		let sum = 0;
		for (let n = 0; n < probes; n++) sum += idx.lookup(hitTypes[n]!, hitBytes.toString('hex', n * 32, n * 32 + 32))!.length;
		return sum;
	});
	const lookupMiss = timePer(probes, 3, () => {
		let found = 0;
		for (let n = 0; n < probes; n++) if (idx.lookup('data', missBytes.toString('hex', n * 32, n * 32 + 32))) found++;
		return found;
	});
	let binary: ChildResult['binary'];
	if (idx instanceof MasterIndex) {
		const hit = timePer(probes, 3, () => {
			let found = 0;
			for (let n = 0; n < probes; n++) if (idx.hasBinary(hitTypes[n]!, hitBytes.subarray(n * 32, n * 32 + 32))) found++;
			return found;
		});
		if (hit.check !== probes) throw new Error(`only ${hit.check} of ${probes} present binary IDs were found`);
		const miss = timePer(probes, 3, () => {
			let found = 0;
			for (let n = 0; n < probes; n++) if (idx.hasBinary('data', missBytes.subarray(n * 32, n * 32 + 32))) found++;
			return found;
		});
		binary = {hasHitNs: hit.ns, hasMissNs: miss.ns};
	}
	const entries = timePer(blobs, 1, () => {
		let count = 0;
		for (const entry of idx.entries()) count += entry.id.length === 64 ? 1 : 0;
		return count;
	});
	if (entries.check !== blobs) throw new Error(`entries() listed ${entries.check} of ${blobs} blobs`);

	let decode: ChildResult['decode'];
	if (kind === 'compact') {
		const into = new Uint8Array(32);
		const scratch = Buffer.alloc(32);
		const ids: string[] = [];
		for (let n = 0; n < probes; n++) ids.push(missBytes.toString('hex', n * 32, n * 32 + 32));
		decode = {
			handNs: timePer(probes, 3, () => {
				let sum = 0;
				for (const id of ids) if (decodeHexId(id, into)) sum += into[0]!;
				return sum;
			}).ns,
			bufferFromNs: timePer(probes, 3, () => {
				let sum = 0;
				for (const id of ids) sum += Buffer.from(id, 'hex')[0]!;
				return sum;
			}).ns,
			bufferWriteNs: timePer(probes, 3, () => {
				let sum = 0;
				for (const id of ids) if (scratch.write(id, 'hex') === 32) sum += scratch[0]!;
				return sum;
			}).ns,
		};
	}
	index = undefined;
	return {
		kind,
		blobs,
		packs,
		bytesPerBlob,
		insertMsPerMillion: insertNs / 1e6 / (blobs / 1e6),
		hasHitNs: hasHit.ns,
		hasMissNs: hasMiss.ns,
		lookupHitNs: lookupHit.ns,
		lookupMissNs: lookupMiss.ns,
		entriesNs: entries.ns,
		hexNs: hexOnly.ns,
		binary,
		decode,
	};
}

/** Loads a real repository's index: the whole `loadIndex`, then only the adding, per index kind. */
async function measureRepo(dir: string): Promise<void> {
	const password = process.env.CAIRN_PASSWORD;
	if (!password) throw new Error('--repo needs CAIRN_PASSWORD');
	let loadMs = Infinity;
	let blobs = 0;
	for (let round = 0; round < 5; round++) {
		const repo = await Repository.open(createLocalStorage(dir), password);
		const start = process.hrtime.bigint();
		await repo.loadIndex();
		loadMs = Math.min(loadMs, nsSince(start) / 1e6);
		const count = repo.index.count();
		blobs = count.data + count.tree;
	}
	const repo = await Repository.open(createLocalStorage(dir), password);
	const packs: PackEntry[] = [];
	for (const id of await repo.listIds('index')) packs.push(...decodeIndexFile(await repo.loadJson('index', id), id).packs);
	const addMs: Record<Kind, number> = {map: Infinity, compact: Infinity};
	for (let round = 0; round < 5; round++) {
		for (const kind of ['map', 'compact'] as const) {
			const index = createIndex(kind);
			const start = process.hrtime.bigint();
			for (const pack of packs) index.addPack(pack);
			addMs[kind] = Math.min(addMs[kind], nsSince(start) / 1e6);
		}
	}
	console.log(`\nreal repository ${dir}: ${blobs} blobs in ${packs.length} packs`);
	console.log(`  loadIndex (read, decrypt, parse, add; compact index): ${loadMs.toFixed(1)} ms`);
	console.log(`  adding the parsed packs only: map ${addMs.map.toFixed(1)} ms, compact ${addMs.compact.toFixed(1)} ms`);
}

function readOption(args: string[], name: string): string | undefined {
	const at = args.indexOf(name);
	return at >= 0 ? args[at + 1] : undefined;
}

function spawnChild(kind: Kind, blobs: number, packs: number): ChildResult {
	const script = fileURLToPath(import.meta.url);
	const child = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=16000', script, '--child', kind, String(blobs), String(packs)], {
		encoding: 'utf8',
		maxBuffer: 1 << 20,
	});
	if (child.status !== 0) throw new Error(`child ${kind} ${blobs} failed: ${child.stderr}`);
	return JSON.parse(child.stdout) as ChildResult;
}

function best(results: ChildResult[]): ChildResult {
	const pick = (key: keyof ChildResult): number => Math.min(...results.map((r) => r[key] as number));
	const first = results[0]!;
	return {
		...first,
		bytesPerBlob: Math.max(...results.map((r) => r.bytesPerBlob)),
		insertMsPerMillion: pick('insertMsPerMillion'),
		hasHitNs: pick('hasHitNs'),
		hasMissNs: pick('hasMissNs'),
		lookupHitNs: pick('lookupHitNs'),
		lookupMissNs: pick('lookupMissNs'),
		entriesNs: pick('entriesNs'),
		hexNs: pick('hexNs'),
		binary: first.binary && {
			hasHitNs: Math.min(...results.map((r) => r.binary!.hasHitNs)),
			hasMissNs: Math.min(...results.map((r) => r.binary!.hasMissNs)),
		},
		decode: first.decode && {
			handNs: Math.min(...results.map((r) => r.decode!.handNs)),
			bufferFromNs: Math.min(...results.map((r) => r.decode!.bufferFromNs)),
			bufferWriteNs: Math.min(...results.map((r) => r.decode!.bufferWriteNs)),
		},
	};
}

async function main(): Promise<void> {
	const args = process.argv.slice(2);
	if (args[0] === '--child') {
		process.stdout.write(JSON.stringify(runChild(args[1] as Kind, Number(args[2]), Number(args[3]))));
		return;
	}
	const sizes = (readOption(args, '--blobs') ?? '1000000,10000000').split(',').map(Number);
	const packs = Number(readOption(args, '--packs') ?? 100_000);
	const rounds = Number(readOption(args, '--rounds') ?? 2);
	const repoDir = readOption(args, '--repo');
	console.log('index    blobs       bytes/blob  insert ms/M  has hit  has miss  lookup hit  lookup miss  entries  (hex)  (ns per call; has/lookup include making the hex string)');
	for (const blobs of sizes) {
		for (const kind of ['map', 'compact'] as const) {
			const runs: ChildResult[] = [];
			for (let round = 0; round < rounds; round++) runs.push(spawnChild(kind, blobs, Math.min(packs, blobs)));
			const r = best(runs);
			console.log(
				`${kind.padEnd(8)} ${String(blobs).padStart(9)}  ${r.bytesPerBlob.toFixed(1).padStart(10)}  ${r.insertMsPerMillion.toFixed(0).padStart(11)}  `
				+ `${r.hasHitNs.toFixed(0).padStart(7)}  ${r.hasMissNs.toFixed(0).padStart(8)}  ${r.lookupHitNs.toFixed(0).padStart(10)}  `
				+ `${r.lookupMissNs.toFixed(0).padStart(11)}  ${r.entriesNs.toFixed(0).padStart(7)}  ${r.hexNs.toFixed(0).padStart(5)}`,
			);
			if (r.binary) console.log(`         hasBinary (no hex string): hit ${r.binary.hasHitNs.toFixed(0)}, miss ${r.binary.hasMissNs.toFixed(0)}`);
			if (r.decode) {
				console.log(`         hex → binary, ns per ID: hand-written ${r.decode.handNs.toFixed(0)}, Buffer.from ${r.decode.bufferFromNs.toFixed(0)}, Buffer#write into scratch ${r.decode.bufferWriteNs.toFixed(0)}`);
			}
		}
	}
	if (repoDir) await measureRepo(repoDir);
}

await main();
