/**
 * The cairn CLI on OpenStack Swift (the real Swift 2.30 of the test helper), with restic 0.14 as
 * the oracle in both directions; keystone v3 through the fake with tokens that expire during a
 * backup; and the messages and exit codes of a wrong key, an unknown container and a stopped proxy.
 */
import {randomBytes} from 'node:crypto';
import {rm} from 'node:fs/promises';
import {join} from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {compareTrees, describeRun, makeTempDir, makeVariedTree, restoredPath, runCairn, runRestic, startCairn, type RunResult} from '../helpers/cli.js';
import {startKeystone, type FakeKeystone} from '../helpers/fakes/keystone-server.js';
import {startSwift, SWIFT_USERS, type RunningSwift} from '../helpers/servers/swift.js';

const PASSWORD = 'swift round trip';
let base: string;
let source: string;
let swift: RunningSwift;
let keystone: FakeKeystone;

beforeAll(async () => {
	base = await makeTempDir('cairn-swift-cli-');
	source = join(base, 'source');
	[swift] = await Promise.all([startSwift(), makeVariedTree(source, {seed: 'swift'})]);
	keystone = await startKeystone({
		swift,
		regions: ['RegionOne'],
		users: [{name: 'alice', password: 'alice-password', domain: 'Default', projects: [{id: 'p1', name: 'backups', domain: 'Default'}]}],
	});
}, 180_000);

afterAll(async () => {
	await keystone?.stop();
	await swift?.stop();
	if (base) await rm(base, {recursive: true, force: true});
});

/** ST_* as restic users set them, plus both programs' passwords. */
function v1Env(): Record<string, string> {
	return {ST_AUTH: swift.authUrl, ST_USER: 'test:tester', ST_KEY: SWIFT_USERS['test:tester'], CAIRN_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD};
}

async function expectSuccess(run: Promise<RunResult>): Promise<RunResult> {
	const result = await run;
	expect(result.code, describeRun(result)).toBe(0);
	return result;
}

function newLocation(): string {
	return `swift:cli-${randomBytes(4).toString('hex')}:/restic/${randomBytes(3).toString('hex')}`;
}

describe('cairn and restic on swift:', () => {
	it('cairn lists, checks and restores what restic wrote', async () => {
		const repo = newLocation();
		const env = v1Env();
		await expectSuccess(runRestic(['-r', repo, 'init'], {env}));
		await expectSuccess(runRestic(['-r', repo, 'backup', source], {env}));
		const listed = await expectSuccess(runCairn(['snapshots', '--repo', repo, '--json'], {env}));
		const snapshots = JSON.parse(listed.stdout) as Array<{paths: string[]}>;
		expect(snapshots.map((snapshot) => snapshot.paths)).toEqual([[source]]);
		await expectSuccess(runCairn(['check', '--read-data', '--repo', repo], {env}));
		const target = join(base, 'from-restic');
		await expectSuccess(runCairn(['restore', 'latest', '--repo', repo, '--target', target], {env}));
		expect(await compareTrees(source, restoredPath(target, source))).toEqual([]);
	});

	it('restic checks every byte of and restores what cairn wrote', async () => {
		const repo = newLocation();
		const env = v1Env();
		await expectSuccess(runCairn(['init', '--repo', repo], {env}));
		const backup = await expectSuccess(runCairn(['backup', '--repo', repo, source], {env}));
		expect(backup.stdout + backup.stderr).not.toContain(SWIFT_USERS['test:tester']);
		await expectSuccess(runRestic(['-r', repo, 'check', '--read-data'], {env}));
		const target = join(base, 'from-cairn');
		await expectSuccess(runRestic(['-r', repo, 'restore', 'latest', '--target', target], {env}));
		expect(await compareTrees(source, restoredPath(target, source))).toEqual([]);
	});
});

describe('cairn on swift: with keystone v3', () => {
	it('finishes a backup whose token expires midway, logging in again', async () => {
		const repo = newLocation();
		const [, container, prefix] = /^swift:([^:]+):\/(.*)$/.exec(repo)!;
		const env = {OS_AUTH_URL: keystone.v3Url, OS_USERNAME: 'alice', OS_PASSWORD: 'alice-password', OS_PROJECT_NAME: 'backups', OS_REGION_NAME: 'RegionOne', CAIRN_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD};
		await expectSuccess(runCairn(['init', '--repo', repo], {env}));
		const before = keystone.issued.length;
		// Small packs, so that several are still to be stored when the first one is there.
		const running = startCairn(['backup', '--repo', repo, '--pack-size', '4', source], {env});
		let expired = false;
		let finished = false;
		// Once the first pack is stored the backup is midway: then its token stops working at Swift, as an expired one does.
		const expiring = (async () => {
			while (!finished && !expired) {
				const {storageUrl, token} = await swift.authenticate();
				const listing = await fetch(`${storageUrl}/${container}?format=json&limit=1&prefix=${encodeURIComponent(`${prefix}/data/`)}`, {headers: {'x-auth-token': token}});
				const packs = listing.status === 200 ? ((await listing.json()) as unknown[]) : (await listing.arrayBuffer(), []);
				if (packs.length > 0 && keystone.issued.length > before) {
					await keystone.expireTokens();
					expired = true;
				}
				await new Promise((resolve) => setTimeout(resolve, 50));
			}
		})();
		const result = await running.done;
		finished = true;
		await expiring;
		expect(result.code, describeRun(result)).toBe(0);
		expect(expired).toBe(true);
		expect(keystone.issued.length - before).toBeGreaterThanOrEqual(2);
		expect(result.stdout + result.stderr).not.toContain('alice-password');
		await expectSuccess(runRestic(['-r', repo, 'check', '--read-data'], {env: {...v1Env()}}));
		const target = join(base, 'after-expiry');
		await expectSuccess(runCairn(['restore', 'latest', '--repo', repo, '--target', target], {env}));
		expect(await compareTrees(source, restoredPath(target, source))).toEqual([]);
	});
});

describe('cairn on swift: when something is wrong', () => {
	it('says the key is wrong, without printing it', async () => {
		const result = await runCairn(['snapshots', '--repo', newLocation()], {env: {...v1Env(), ST_KEY: 'wrong-key-123'}});
		expect(result.code, describeRun(result)).toBe(1);
		expect(result.stderr).toMatch(/refused the credentials \(HTTP 401\): check the user and key \(ST_USER, ST_KEY\)/);
		expect(result.stderr).not.toContain('wrong-key-123');
	});

	it('says there is no repository when the container does not exist', async () => {
		const result = await runCairn(['snapshots', '--repo', 'swift:no-such-container:/x'], {env: v1Env()});
		// The engine words a missing config file (and so a missing container) itself, with restic's exit code 10.
		expect(result.code, describeRun(result)).toBe(10);
		expect(result.stderr).toMatch(/there is no repository at swift:no-such-container:\/x: it has no config file\. Check the location, or run `cairn init`/);
	});

	it('says the proxy refuses connections', async () => {
		await swift.stopProxy();
		try {
			const result = await runCairn(['init', '--repo', newLocation()], {env: v1Env()});
			expect(result.code, describeRun(result)).toBe(1);
			expect(result.stderr).toMatch(/refused the connection/);
		} finally {
			await swift.startProxy();
		}
	});
});
