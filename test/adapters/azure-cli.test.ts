/**
 * The built CLI on Azure (azurite): an `init → backup → restore` round trip compared byte for
 * byte, access tiers from `.storageconfig`, and a restore from the Archive tier with `--thaw`.
 */
import {rm} from 'node:fs/promises';
import {join} from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {compareTrees, describeRun, makeTempDir, makeVariedTree, restoredPath, runCairn, type RunResult} from '../helpers/cli.js';
import {AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type RunningAzurite} from '../helpers/servers/azurite.js';

let base: string;
let source: string;
let azurite: RunningAzurite;

beforeAll(async () => {
	base = await makeTempDir('cairn-azure-cli-');
	source = join(base, 'source');
	// A 12 MiB file makes blobs above the 8 MiB block-upload threshold.
	await makeVariedTree(source, {seed: 'azure', bigFileSize: 12 * 1024 * 1024});
	azurite = await startAzurite();
	await azurite.createContainer('cli');
});

afterAll(async () => {
	await azurite?.close();
	if (base) await rm(base, {recursive: true, force: true});
});

/** Runs the CLI without the local cache: these tests are about what the storage itself serves. */
async function cairn(args: string[]): Promise<RunResult> {
	return runCairn([...args, '--no-cache'], {env: {AZURE_ACCOUNT_NAME: AZURITE_ACCOUNT, AZURE_ACCOUNT_KEY: AZURITE_KEY, CAIRN_PASSWORD: 'azure round trip'}});
}

async function cairnOk(args: string[]): Promise<RunResult> {
	const result = await cairn(args);
	expect(result.code, describeRun(result)).toBe(0);
	return result;
}

/** Blob names under a prefix with their access tiers. */
async function listTiers(prefix: string): Promise<Map<string, string | undefined>> {
	const tiers = new Map<string, string | undefined>();
	for await (const item of azurite.client.getContainerClient('cli').listBlobsFlat({prefix: `${prefix}/`})) tiers.set(item.name.slice(prefix.length + 1), item.properties.accessTier);
	return tiers;
}

describe('cairn on azure:', () => {
	it('init, backup, check and restore give back the same tree, with tiers from .storageconfig', async () => {
		const repo = ['--repo', 'azure:cli:/backups/plain', '-o', `azure.endpoint=${azurite.endpoint}`];
		await cairnOk(['init', ...repo]);
		await cairnOk(['storageconfig', 'set', ...repo, '--data', 'Cool', '--index', 'Cold']);
		await cairnOk(['backup', ...repo, source]);
		await cairnOk(['check', '--read-data', ...repo]);
		const target = join(base, 'target');
		await cairnOk(['restore', 'latest', '--target', target, ...repo]);
		expect(await compareTrees(source, restoredPath(target, source))).toEqual([]);
		const tiers = await listTiers('backups/plain');
		expect([...tiers.keys()].filter((name) => name.startsWith('data/')).length).toBeGreaterThan(1);
		for (const [name, tier] of tiers) {
			if (name.startsWith('data/')) expect(tier, name).toBe('Cool');
			else if (name.startsWith('index/')) expect(tier, name).toBe('Cold');
			else expect(tier, name).toBe('Hot');
		}
	});

	it('restores from the Archive tier with --thaw after saying what it costs', async () => {
		const repo = ['--repo', 'azure:cli:/backups/archive', '-o', `azure.endpoint=${azurite.endpoint}`, '-o', 'azure.thaw-tier=Cool'];
		await cairnOk(['init', ...repo]);
		await cairnOk(['storageconfig', 'set', ...repo, '--data', 'Archive']);
		await cairnOk(['backup', ...repo, source]);
		const archived = [...(await listTiers('backups/archive'))].filter(([name]) => name.startsWith('data/'));
		expect(archived.length).toBeGreaterThan(1);
		for (const [name, tier] of archived) expect(tier, name).toBe('Archive');
		// ls reads trees, which sit in archived packs too: thaw --trees makes them readable.
		const cold = await cairn(['ls', 'latest', ...repo]);
		expect(cold.code).toBe(1);
		expect(cold.stderr).toMatch(/Archive tier/);
		const trees = await cairnOk(['thaw', '--trees', '--thaw-poll', '0.01', ...repo]);
		expect(trees.stderr).toMatch(/thaw: (the pack|all \d+ packs) holding directory trees (is|are) readable/);
		expect((await cairnOk(['ls', 'latest', ...repo])).stdout).toContain('big.bin');
		const target = join(base, 'target-archive');
		const plain = await cairn(['restore', 'latest', '--target', target, ...repo]);
		expect(plain.code, describeRun(plain)).toBe(1);
		expect(plain.stderr).toMatch(/Archive tier .*cairn restore --thaw/);
		const thawed = await cairnOk(['restore', 'latest', '--target', target, '--thaw', '--thaw-poll', '0.01', ...repo]);
		expect(thawed.stderr).toMatch(/Azure Archive rehydration takes up to 15 hours/);
		expect(thawed.stderr).toMatch(/thaw: (the pack|all \d+ packs) holding file contents (is|are) readable/);
		expect(await compareTrees(source, restoredPath(target, source))).toEqual([]);
		for (const [name, tier] of [...(await listTiers('backups/archive'))].filter(([key]) => key.startsWith('data/'))) expect(tier, name).toBe('Cool');
	});

	it('says a container is missing', async () => {
		const result = await cairn(['init', '--repo', 'azure:absent:/x', '-o', `azure.endpoint=${azurite.endpoint}`]);
		expect(result.code).toBe(1);
		expect(result.stderr).toMatch(/container "absent" does not exist .*cairn does not create containers/);
	});
});
