import {describe, expect, it} from 'vitest';
import {checkNodeName, decodeTree, encodeTree, type TreeNode} from '../../../engine/format/tree.js';
import {GO_MODE, formatMode, goModeToUnixPermissions, unixToGoMode} from '../../../engine/format/mode.js';

const base = {mtime: '2024-01-01T00:00:00Z', atime: '2024-01-01T00:00:00Z', ctime: '2024-01-01T00:00:00Z', uid: 0, gid: 0};

describe('tree encoding', () => {
	it('sorts by UTF-8 bytes, keeps Go field order and ends with a newline', () => {
		const nodes: TreeNode[] = [
			{...base, name: 'é', type: 'file', mode: 420, size: 3, content: ['a'.repeat(64)]},
			{...base, name: 'B', type: 'dir', mode: GO_MODE.dir + 0o755, content: null, subtree: 'b'.repeat(64)},
			{...base, name: 'a<b', type: 'file', mode: 420, content: []},
		];
		const text = encodeTree(nodes).toString();
		expect(text.endsWith('}\n')).toBe(true);
		const names = decodeTree(Buffer.from(text)).nodes.map((n) => n.name);
		expect(names).toEqual(['B', 'a<b', 'é']);
		expect(text).toContain('"name":"a\\u003cb"');
		expect(text.indexOf('"mode"')).toBeLessThan(text.indexOf('"mtime"'));
		expect(text).toContain('"content":[]');
		expect(text).toContain('"content":null,"subtree"');
	});

	it('refuses duplicate names', () => {
		const node: TreeNode = {...base, name: 'x', type: 'file', content: []};
		expect(() => encodeTree([node, {...node}])).toThrow(/duplicate/);
	});

	it('flags names that could escape a restore target', () => {
		expect(checkNodeName('..')).toMatch(/invalid/);
		expect(checkNodeName('a/b')).toMatch(/'\/'/);
		expect(checkNodeName('a\0b')).toMatch(/NUL/);
		expect(checkNodeName('ok name')).toBeUndefined();
	});
});

describe('Go file modes', () => {
	it('maps Unix type and special bits to Go bits and back', () => {
		expect(unixToGoMode(0o40755)).toBe(GO_MODE.dir + 0o755);
		expect(unixToGoMode(0o120777)).toBe(GO_MODE.symlink + 0o777);
		expect(unixToGoMode(0o104755)).toBe(GO_MODE.setuid + 0o755);
		expect(goModeToUnixPermissions(GO_MODE.setuid + GO_MODE.sticky + 0o700)).toBe(0o5700);
		expect(formatMode(GO_MODE.dir + 0o750, 'dir')).toBe('drwxr-x---');
	});
});
