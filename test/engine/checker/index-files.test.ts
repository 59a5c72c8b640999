import {randomBytes} from 'node:crypto';
import {copyFile} from 'node:fs/promises';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runCheck} from '../../../engine/checker/checker.js';
import {findMalformedEntry} from '../../../engine/checker/index-files.js';
import {sealBytes} from '../../../engine/crypto/cipher.js';
import {hashHex} from '../../../engine/util/hash.js';
import {assemblePack} from '../../../engine/repository/pack-uploader.js';
import type {PackedBlob} from '../../../engine/format/pack.js';
import {rm} from 'node:fs/promises';
import {buildTemplate, copyTemplate, filePath, listFileIds, openRepository, readIndexedPacks, type Template} from './fixtures.js';

let template: Template;

beforeAll(async () => {
	template = await buildTemplate();
});

afterAll(async () => {
	await rm(template.root, {recursive: true, force: true});
});

const id = (c: string): string => c.repeat(64);

describe('findMalformedEntry', () => {
	it('accepts well-formed packs and names the first bad field', () => {
		const good = {type: 'data' as const, id: id('a'), offset: 0, length: 40, uncompressedLength: 0};
		expect(findMalformedEntry([{packId: id('b'), blobs: [good]}])).toBeUndefined();
		expect(findMalformedEntry([{packId: 'xyz', blobs: []}])).toContain('invalid ID "xyz"');
		expect(findMalformedEntry([{packId: id('b'), blobs: [{...good, id: 'short'}]}])).toContain('invalid ID "short"');
		expect(findMalformedEntry([{packId: id('b'), blobs: [{...good, type: 'other' as 'data'}]}])).toContain('invalid type "other"');
		expect(findMalformedEntry([{packId: id('b'), blobs: [{...good, offset: -1}]}])).toContain('invalid offset -1');
		expect(findMalformedEntry([{packId: id('b'), blobs: [{...good, length: undefined as unknown as number}]}])).toContain('invalid length');
	});
});

describe('runCheck and the index files', () => {
	it('warns about a pack listed by two index files that agree', async () => {
		const dir = await copyTemplate(template);
		const packs = await readIndexedPacks(dir);
		const repo = await openRepository(dir);
		await repo.saveIndex([packs[0]!]);
		const report = await runCheck(await openRepository(dir), {noLock: true});
		expect(report.ok).toBe(true);
		expect(report.indexFiles).toBe(2);
		expect(report.problems).toHaveLength(1);
		expect(report.problems[0]).toMatchObject({file: `data/${packs[0]!.packId.slice(0, 2)}/${packs[0]!.packId}`, severity: 'warning'});
		expect(report.problems[0]!.message).toMatch(/^is listed by 2 index files/);
	});

	it('reports a pack that two index files describe differently', async () => {
		const dir = await copyTemplate(template);
		const packs = await readIndexedPacks(dir);
		const repo = await openRepository(dir);
		const pack = packs.find((p) => p.blobs.length > 1) ?? packs[0]!;
		await repo.saveIndex([{packId: pack.packId, blobs: pack.blobs.map((b, i) => (i === 0 ? {...b, length: b.length + 1} : b))}]);
		const report = await runCheck(await openRepository(dir), {noLock: true});
		expect(report.ok).toBe(false);
		const problem = report.problems.find((p) => p.message.includes('described differently'));
		expect(problem).toMatchObject({file: `data/${pack.packId.slice(0, 2)}/${pack.packId}`, severity: 'error'});
	});

	it('reports an index file with malformed entries and does not use it', async () => {
		const dir = await copyTemplate(template);
		const repo = await openRepository(dir);
		const bad = await repo.saveUnpacked('index', Buffer.from(JSON.stringify({packs: [{id: 'not-an-id', blobs: []}]})));
		const report = await runCheck(await openRepository(dir), {noLock: true});
		expect(report.indexFiles).toBe(1);
		expect(report.problems).toEqual([{file: `index/${bad}`, message: 'is malformed: a pack has the invalid ID "not-an-id"; the index file was not used', severity: 'error'}]);
	});

	it('only warns about unindexed packs and mixed packs', async () => {
		const dir = await copyTemplate(template);
		const [first] = await listFileIds(dir, 'data');
		const stray = 'f'.repeat(64);
		await copyFile(filePath(dir, 'data', first!), filePath(dir, 'data', stray));

		// a pack holding a tree blob and a data blob, indexed
		const repo = await openRepository(dir);
		const parts = [sealBytes(repo.key, randomBytes(50)), sealBytes(repo.key, Buffer.from('{"nodes":[]}\n'))];
		const blobs: PackedBlob[] = [
			{type: 'data', id: hashHex(randomBytes(8)), offset: 0, length: parts[0]!.length, uncompressedLength: 0},
			{type: 'tree', id: hashHex(randomBytes(8)), offset: parts[0]!.length, length: parts[1]!.length, uncompressedLength: 0},
		];
		const mixed = assemblePack(repo.key, parts, blobs);
		await repo.storage.save({type: 'data', name: mixed.id}, mixed.bytes);
		await repo.saveIndex([{packId: mixed.id, blobs}]);

		const report = await runCheck(await openRepository(dir), {noLock: true});
		expect(report.ok).toBe(true);
		expect(report.problems).toEqual([
			{file: `data/${mixed.id.slice(0, 2)}/${mixed.id}`, message: 'holds both tree and data blobs; this is harmless, and prune repacks it', severity: 'warning'},
			{file: `data/ff/${stray}`, message: 'is not referenced by any index; `prune` removes it', severity: 'warning'},
		]);
	});
});
