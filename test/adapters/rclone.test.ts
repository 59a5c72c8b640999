import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {rcloneAdapter} from '../../adapters/rclone/adapter.js';
import {runStorageConformance} from '../conformance/storage-suite.js';
import {RCLONE} from '../helpers/servers/rclone.js';
import {requireBinary} from '../helpers/servers/processes.js';

let directory: string;

beforeAll(async () => {
	await requireBinary(RCLONE, 'install rclone');
	directory = await mkdtemp(join(tmpdir(), 'cairn-rclone-'));
	const config = join(directory, 'rclone.conf');
	await writeFile(config, '[myremote]\ntype = local\n');
	process.env.RCLONE_CONFIG = config;
});

afterAll(async () => {
	await rm(directory, {recursive: true, force: true});
});

const values = (remote: string) => ({remote, program: RCLONE, timeout: '30', connections: '5'});

runStorageConformance('rclone (local path)', async () => {
	const root = await mkdtemp(join(directory, 'local-'));
	return {storage: await rcloneAdapter.open(values(join(root, 'repo'))), cleanup: () => rm(root, {recursive: true, force: true})};
});

runStorageConformance('rclone (remote from RCLONE_CONFIG)', async () => {
	const root = await mkdtemp(join(directory, 'remote-'));
	return {storage: await rcloneAdapter.open(values(`myremote:${join(root, 'repo')}`)), cleanup: () => rm(root, {recursive: true, force: true})};
});

describe('smoke', () => {
	it('runs', () => expect(directory).toBeTruthy());
});
