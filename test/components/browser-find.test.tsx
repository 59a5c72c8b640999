import {join} from 'node:path';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {createLocalStorage} from '../../adapters/local.js';
import {Repository} from '../../engine/repository/repository.js';
import {loadTree} from '../../engine/restorer/walk.js';
import {listSnapshots} from '../../engine/repository/snapshots.js';
import {TreeLoader} from '../../components/tree-loader.js';
import {compileNameMatcher, findInSnapshot} from '../../components/find.js';
import {createFindState, reduceFind} from '../../components/state/find.js';
import {checkFrameFits, createTestEnvironment, KEYS, press, renderApp, saveProfile, SMALL, waitForFrame, WIDE, type RenderedApp, type TestEnvironment} from './harness.js';
import {createSyntheticRepository, makeManyFiles} from './synthetic.js';

const HUGE = 100_000;

let environment: TestEnvironment | undefined;
let repoPath = '';
let app: RenderedApp | undefined;

// One snapshot of /data, shared by the tests (none of them writes): a directory of 100,000
// files, a small one, and a file deep down.
beforeAll(async () => {
	environment = await createTestEnvironment();
	repoPath = join(environment.root, 'repo');
	await createSyntheticRepository(repoPath, 'pw', {data: {big: makeManyFiles(HUGE), small: {'notes.txt': 12, 'todo.md': 5}, deep: {a: {b: {c: {'needle.txt': 42}}}}}});
	saveProfile(environment.env, {name: 'huge', location: `local:${repoPath}`});
}, 120_000);
afterEach(() => {
	app?.cleanup();
	app = undefined;
});
afterAll(async () => {
	await environment?.dispose();
});

async function openSnapshot(size = SMALL): Promise<RenderedApp> {
	app = renderApp(environment!, size);
	await waitForFrame(app.lastFrame, 'huge › Password');
	await press(app.stdin, 'pw', KEYS.enter);
	await waitForFrame(app.lastFrame, '1 snapshot');
	await press(app.stdin, KEYS.enter);
	await waitForFrame(app.lastFrame, 'data/');
	return app;
}

describe('large directories, search and find', () => {
	it('opens a directory of 100,000 entries, moves to its end and searches in it', async () => {
		await openSnapshot();
		await press(app!.stdin, KEYS.enter);
		await waitForFrame(app!.lastFrame, 'big/');
		await press(app!.stdin, KEYS.enter);
		const opened = await waitForFrame(app!.lastFrame, `${HUGE} entries`, 60_000);
		const rows = checkFrameFits(opened, SMALL).filter((line) => /^[ *+·] file-\d{6}\.dat/.test(line));
		expect(rows).toHaveLength(SMALL.rows - 1 - 5);
		expect(rows[0]).toContain('file-000000.dat');
		await press(app!.stdin, KEYS.end);
		const last = await waitForFrame(app!.lastFrame, 'file-099999.dat');
		expect(last).toContain('(99999 bytes)');
		// / searches within the directory.
		await press(app!.stdin, '/', '0999');
		const searched = await waitForFrame(app!.lastFrame, `entries match "0999"`);
		const expected = Object.keys(makeManyFiles(HUGE)).filter((name) => name.includes('0999')).length;
		expect(searched).toContain(`${expected} of ${HUGE} entries match "0999"`);
		await press(app!.stdin, KEYS.enter, KEYS.space);
		await waitForFrame(app!.lastFrame, '1 marked');
		await press(app!.stdin, 'a');
		await waitForFrame(app!.lastFrame, `${expected} marked`);
		await press(app!.stdin, KEYS.escape);
		const cleared = await waitForFrame(app!.lastFrame, `${HUGE} entries  ·  ${expected} marked`);
		expect(cleared).not.toContain('match');
	}, 120_000);

	it('finds entries by name in the whole snapshot and goes to one', async () => {
		await openSnapshot(WIDE);
		await press(app!.stdin, 'f');
		await waitForFrame(app!.lastFrame, 'Find by name in the whole snapshot');
		await press(app!.stdin, 'needle', KEYS.enter);
		const found = await waitForFrame(app!.lastFrame, (frame) => frame.includes('· done') && frame.includes('/data/deep/a/b/c/needle.txt'), 60_000);
		checkFrameFits(found, WIDE);
		expect(found).toContain('"needle": 1 found');
		// data; big, small, deep; the files; notes.txt, todo.md; a, b, c; needle.txt
		expect(found).toContain(`${1 + 3 + HUGE + 2 + 3 + 1} entries looked at`);
		await press(app!.stdin, KEYS.enter);
		const jumped = await waitForFrame(app!.lastFrame, (frame) => frame.includes('› Files') && frame.includes('/data/deep/a/b/c  ·  1 entry'));
		// The cursor is on the entry found: its details are shown.
		expect(jumped).toContain('(42 bytes)');
		// Going up works from there, one directory at a time.
		await press(app!.stdin, KEYS.left);
		await waitForFrame(app!.lastFrame, '/data/deep/a/b  ·');
		// A glob, and a search with nothing found.
		await press(app!.stdin, 'f', KEYS.ctrlU, '*.md', KEYS.enter);
		const glob = await waitForFrame(app!.lastFrame, '· done', 60_000);
		expect(glob).toContain('/data/small/todo.md');
		await press(app!.stdin, 'f', KEYS.ctrlU, 'zzz', KEYS.enter);
		await waitForFrame(app!.lastFrame, 'Nothing named like "zzz"', 60_000);
		await press(app!.stdin, KEYS.escape);
		await waitForFrame(app!.lastFrame, '› Files');
	}, 120_000);

	it('decodes large trees in a worker with the same result, and find stops when cancelled', async () => {
		const repo = await Repository.open(createLocalStorage(repoPath), 'pw');
		const loader = new TreeLoader(repo);
		try {
			await repo.loadIndex();
			const [snapshot] = await listSnapshots(repo);
			const root = await loader.load(snapshot!.tree);
			const data = (await loader.load(root[0]!.subtree!)).find((node) => node.name === 'big')!;
			const [viaWorker, inPlace] = await Promise.all([loader.load(data.subtree!), loadTree(repo, data.subtree!)]);
			expect(viaWorker).toHaveLength(HUGE);
			expect(viaWorker).toEqual(inPlace);
			expect(loader.peek(data.subtree!)).toBe(viaWorker);
			const controller = new AbortController();
			const progress: number[] = [];
			const search = findInSnapshot(loader, snapshot!.tree, 'file', {
				signal: controller.signal,
				onProgress: (checked) => {
					progress.push(checked);
					controller.abort();
				},
			});
			await expect(search).rejects.toThrow();
			expect(progress.length).toBeGreaterThan(0);
			const limited = await findInSnapshot(loader, snapshot!.tree, 'file', {limit: 10});
			expect(limited).toMatchObject({truncated: true});
			expect(limited.matches).toHaveLength(10);
		} finally {
			await loader.close();
			await repo.close();
		}
	}, 120_000);

	it('matches names by words or globs, and keeps the find state consistent', () => {
		expect(compileNameMatcher('needle')('Needle.TXT')).toBe(true);
		expect(compileNameMatcher('old notes')('notes-old.md')).toBe(true);
		expect(compileNameMatcher('*.md')('todo.md')).toBe(true);
		expect(compileNameMatcher('*.md')('todo.md.bak')).toBe(false);
		let state = reduceFind(createFindState(), {type: 'type', query: 'x'});
		state = reduceFind(state, {type: 'start'});
		expect(state.phase).toBe('searching');
		state = reduceFind(state, {type: 'matches', matches: [{path: 'a/x', name: 'x', type: 'file', dir: ['a'], trees: ['t0', 't1']}]});
		state = reduceFind(state, {type: 'cancel'});
		expect(state).toMatchObject({phase: 'cancelled', results: [{path: 'a/x'}]});
		// Late results of a stopped search are ignored.
		expect(reduceFind(state, {type: 'matches', matches: [{path: 'b', name: 'b', type: 'file', dir: [], trees: ['t0']}]})).toBe(state);
		state = reduceFind(reduceFind(state, {type: 'edit'}), {type: 'back'});
		expect(state.phase).toBe('done');
	});
});
