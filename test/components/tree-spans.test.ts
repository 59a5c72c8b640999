import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {createLocalStorage} from '../../adapters/local.js';
import {Repository} from '../../engine/repository/repository.js';
import {decodeTree, encodeTree, type TreeNode} from '../../engine/format/tree.js';
import {loadTree} from '../../engine/restorer/walk.js';
import {findNodeSpans} from '../../components/tree-spans.js';
import {TreeLoader} from '../../components/tree-loader.js';
import {TREE_CHUNK} from '../../components/tree-protocol.js';

const TIME = '2024-03-01T10:00:00.123456789+01:00';

function file(name: string, extra: Partial<TreeNode> = {}): TreeNode {
	return {name, type: 'file', mode: 0o644, mtime: TIME, atime: TIME, ctime: TIME, uid: 1000, gid: 1000, user: 'me', group: 'me', size: 3, content: ['a'.repeat(64)], ...extra};
}

/** Names that would trip a careless scanner: brackets, braces, quotes, backslashes, Go's escapes, other scripts. */
const ODD_NAMES = ['a}b', '{x', '[y]', 'quote"d', 'back\\slash', 'end\\', '\\"', 'less<more>&', 'naïve ünïcödé', '日本語', '😀 smile', 'tab\there', 'new\nline', ',comma', 'colon:'];

function spansOf(bytes: Uint8Array): unknown[] | undefined {
	const spans = findNodeSpans(bytes);
	if (spans === undefined) return undefined;
	const text = Buffer.from(bytes);
	const nodes: unknown[] = [];
	for (let i = 0; i < spans.length; i += 2) nodes.push(JSON.parse(text.toString('utf8', spans[i], spans[i + 1])));
	return nodes;
}

describe('node spans of a tree', () => {
	it('cuts the nodes of an encoded tree exactly, whatever their names hold', () => {
		const nodes = [...ODD_NAMES.map((name) => file(name)), file('link', {type: 'symlink', linktarget: '../{]"\\', content: null}), file('dir', {type: 'dir', subtree: 'b'.repeat(64), content: null, extended_attributes: [{name: 'user.x', value: 'e30='}]})];
		const bytes = encodeTree(nodes);
		expect(spansOf(bytes)).toEqual(decodeTree(bytes).nodes);
		expect(spansOf(bytes)).toHaveLength(nodes.length);
	});

	it('reads empty trees, null node lists and whitespace', () => {
		expect(spansOf(encodeTree([]))).toEqual([]);
		expect(spansOf(Buffer.from('{"nodes":null}\n'))).toEqual([]);
		expect(spansOf(Buffer.from(' {\n  "nodes" : [ {"name":"a"} ,\n {"name":"b"} ]\n}\n\n'))).toEqual([{name: 'a'}, {name: 'b'}]);
	});

	it('gives up on anything but the usual shape, for the caller to parse whole', () => {
		for (const text of ['', '[]', '{"nodes":[{"name":"a"}],"extra":1}', '{"other":[]}', '{"nodes":[{"name":"a"}', '{"nodes":[{"name":"a"} {"name":"b"}]}', '{"nodes":[1,2]}', '{"nodes":[{"name":"a\\"}]}', '{"nodes":[]} x']) {
			expect(findNodeSpans(Buffer.from(text)), text).toBeUndefined();
		}
	});
});

describe('the tree loader', () => {
	let dir = '';
	afterEach(async () => {
		if (dir !== '') await rm(dir, {recursive: true, force: true});
		dir = '';
	});

	it('gives the same nodes through its worker as in place, across chunks and for odd names and empty trees', async () => {
		dir = await mkdtemp(join(tmpdir(), 'cairn-tree-loader-'));
		const repo = await Repository.init(createLocalStorage(join(dir, 'repo')), 'pw');
		// Every tree goes through the worker (threshold 0).
		const loader = new TreeLoader(repo, 0);
		try {
			const many = Array.from({length: TREE_CHUNK * 2 + 7}, (_, i) => file(`${ODD_NAMES[i % ODD_NAMES.length]}-${i}`));
			const trees = await Promise.all([many, ODD_NAMES.map((name) => file(name)), []].map(async (nodes) => (await repo.saveBlob('tree', encodeTree(nodes))).id));
			await repo.flush();
			for (const id of trees) {
				const [viaWorker, inPlace] = await Promise.all([loader.load(id), loadTree(repo, id)]);
				expect(viaWorker).toEqual(inPlace);
			}
			expect(await loader.load(trees[0]!)).toHaveLength(TREE_CHUNK * 2 + 7);
		} finally {
			await loader.close();
			await repo.close();
		}
	});
});
