/**
 * Bandwidth limits: the rate measured on real backends (local disk, restic REST server from
 * rclone) stays within 15% of the asked rate, uploads and downloads, with several operations at
 * once sharing one limit; plus the bucket's arithmetic, and the CLI and profile plumbing.
 */
import {randomBytes} from 'node:crypto';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import '../../adapters/index.js';
import {createLocalStorage} from '../../adapters/local.js';
import {restAdapter} from '../../adapters/rest/adapter.js';
import type {FileHandle, Storage} from '../../adapters/storage.js';
import {ByteBucket, parseRateLimit, withRateLimits} from '../../adapters/wrappers/rate-limit.js';
import {readProfile} from '../../components/profiles.js';
import {readProfileLimits} from '../../components/session.js';
import {buildFinishFields, checkRateLimit} from '../../components/screens/add-repository.js';
import {applyProfile, loadProfiles, readRateLimits} from '../../source/cli/context.js';
import {startRcloneServer, type RcloneServer} from '../helpers/servers/rclone.js';

const RATE_KIB = 2048;
const RATE = RATE_KIB * 1024;
/** Bytes moved per measurement: 1.5 s at the limit. */
const TOTAL = Math.round(RATE * 1.5);
const FILES = 12;

let server: RcloneServer;
let localDir: string;

beforeAll(async () => {
	server = await startRcloneServer('restic');
	localDir = await mkdtemp(join(tmpdir(), 'cairn-rate-'));
});

afterAll(async () => {
	await server?.stop();
	if (localDir) await rm(localDir, {recursive: true, force: true});
});

/** Saves FILES files of TOTAL bytes in all, four at a time; returns the measured bytes per second and the handles. */
async function measureUpload(storage: Storage): Promise<{rate: number; handles: FileHandle[]}> {
	const size = Math.ceil(TOTAL / FILES);
	const handles = Array.from({length: FILES}, () => ({type: 'data' as const, name: randomBytes(32).toString('hex')}));
	const started = performance.now();
	for (let i = 0; i < FILES; i += 4) {
		await Promise.all(handles.slice(i, i + 4).map((handle) => storage.save(handle, randomBytes(size))));
	}
	return {rate: (size * FILES) / ((performance.now() - started) / 1000), handles};
}

/** Loads the files back, the first half whole and the second half as ranges; returns bytes per second. */
async function measureDownload(storage: Storage, handles: FileHandle[]): Promise<number> {
	const size = Math.ceil(TOTAL / FILES);
	const started = performance.now();
	let bytes = 0;
	await Promise.all(handles.map(async (handle, index) => {
		const data = index % 2 === 0 ? await storage.load(handle) : await storage.load(handle, {offset: 0, length: size});
		expect(data.byteLength).toBe(size);
		bytes += data.byteLength;
	}));
	return bytes / ((performance.now() - started) / 1000);
}

async function expectLimitedRates(open: () => Promise<Storage>): Promise<{up: number; down: number}> {
	const storage = withRateLimits(await open(), {uploadKiB: RATE_KIB, downloadKiB: RATE_KIB});
	try {
		await storage.create();
		const {rate: up, handles} = await measureUpload(storage);
		const down = await measureDownload(storage, handles);
		expect(Math.abs(up - RATE) / RATE, `upload ${(up / 1024).toFixed(0)} KiB/s, asked ${RATE_KIB}`).toBeLessThan(0.15);
		expect(Math.abs(down - RATE) / RATE, `download ${(down / 1024).toFixed(0)} KiB/s, asked ${RATE_KIB}`).toBeLessThan(0.15);
		console.info(`${storage.location}: upload ${(up / 1024).toFixed(0)} KiB/s, download ${(down / 1024).toFixed(0)} KiB/s (limit ${RATE_KIB} KiB/s)`);
		return {up, down};
	} finally {
		await storage.close();
	}
}

describe('withRateLimits on real backends', () => {
	it('holds uploads and downloads to the limit on a local repository', async () => {
		await expectLimitedRates(async () => createLocalStorage(join(localDir, 'repo')));
	});

	it('holds uploads and downloads to the limit on a REST server (rclone serve restic)', async () => {
		await expectLimitedRates(async () => restAdapter.open({url: `${server.url}rate-${randomBytes(4).toString('hex')}/`}));
	});
});

describe('ByteBucket', () => {
	it('starts empty, lets debt be paid off at the rate, and caps what it saves up at a tenth of a second', () => {
		let now = 0;
		const bucket = new ByteBucket(1000, () => now);
		expect(bucket.reserve(500)).toBeCloseTo(500);
		now = 500;
		expect(bucket.reserve(0)).toBe(0);
		now = 10_000; // a long idle time saves up at most 100 bytes
		expect(bucket.reserve(100)).toBe(0);
		expect(bucket.reserve(1000)).toBeCloseTo(1000);
	});
});

describe('limit settings', () => {
	it('reads KiB/s from flags, the environment and saved profiles; rejects what is not a number', () => {
		expect(parseRateLimit('512', '--limit-upload')).toBe(512);
		expect(parseRateLimit('0', '--limit-upload')).toBeUndefined();
		expect(() => parseRateLimit('fast', '--limit-upload')).toThrow(/KiB\/s/);
		expect(readRateLimits({limitUpload: '100'}, {CAIRN_LIMIT_DOWNLOAD: '200'})).toEqual({uploadKiB: 100, downloadKiB: 200});
		expect(() => readRateLimits({limitDownload: '-3'}, {})).toThrow(/--limit-download/);
		const profile = readProfile({name: 'nas', location: 'local:/srv', limitUploadKiB: 256, limitDownloadKiB: 'x'})!;
		expect(profile.limitUploadKiB).toBe(256);
		expect(profile.limitDownloadKiB).toBeUndefined();
		expect(readProfileLimits(profile, {limits: {downloadKiB: 64}})).toEqual({uploadKiB: 256, downloadKiB: 64});
	});

	it('offers both limits in the repository form, checked', () => {
		const fields = buildFinishFields([], false);
		expect(fields.map((f) => f.name)).toEqual(expect.arrayContaining(['limitUpload', 'limitDownload']));
		expect(checkRateLimit('')).toBeUndefined();
		expect(checkRateLimit('512')).toBeUndefined();
		expect(checkRateLimit('-1')).toMatch(/positive number of KiB\/s/);
	});

	it('takes the limits of a profile for the CLI unless flags give them', () => {
		const dir = join(localDir, 'config');
		const env = {XDG_CONFIG_HOME: dir, HOME: localDir};
		return Promise.all([import('../../components/profiles.js'), loadProfiles()]).then(([{openProfileStore}]) => {
			openProfileStore(env).saveProfile({name: 'slow', location: `local:${join(localDir, 'x')}`, limitUploadKiB: 300, limitDownloadKiB: 400});
			const flags = applyProfile({profile: 'slow', limitDownload: '50'}, env);
			expect(readRateLimits(flags, {})).toEqual({uploadKiB: 300, downloadKiB: 50});
		});
	});
});
