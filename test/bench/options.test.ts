import * as os from 'node:os';
import * as path from 'node:path';
import {describe, expect, it} from 'vitest';
import {CORPUS_KINDS, parseOptions} from '../../bench/options.js';

describe('benchmark options', () => {
	it('defaults to the full-size suite the issue asks for', () => {
		const options = parseOptions([]);
		expect(options.kinds).toEqual([...CORPUS_KINDS]);
		expect(options.rounds).toBe(3);
		expect(options.fileCounts).toEqual([10_000, 100_000, 300_000]);
		expect(options.largeMib).toBe(1024);
		expect(options.systemMib).toBe(2048);
		expect(options.systemPaths).toBeUndefined();
		expect(options.sizeMib).toBe(1024);
		expect(options.runtimes).toEqual([process.execPath]);
		expect(options.taskset).toBeUndefined();
		expect(options.tools).toEqual(['cairn', 'restic']);
		expect(parseOptions(['--suite']).kinds).toEqual([...CORPUS_KINDS]);
	});

	it('reads the tiny settings, kinds, runtimes and taskset', () => {
		const options = parseOptions(['--corpus-kind', 'files,large', '--file-counts', '2000,5000', '--large-mib', '32', '--size-mib', '64', '--rounds', '1', '--taskset', '0', '--runtimes', 'node,~/n24/node', '--system-paths', '/usr/share/doc,/usr/lib/x']);
		expect(options.kinds).toEqual(['files', 'large']);
		expect(options.fileCounts).toEqual([2000, 5000]);
		expect(options.largeMib).toBe(32);
		expect(options.sizeMib).toBe(64);
		expect(options.rounds).toBe(1);
		expect(options.taskset).toBe('0');
		expect(options.runtimes).toEqual([process.execPath, path.join(os.homedir(), 'n24/node')]);
		expect(options.systemPaths).toEqual(['/usr/share/doc', '/usr/lib/x']);
		expect(parseOptions(['--node', '/opt/node/bin/node']).runtimes).toEqual(['/opt/node/bin/node']);
		expect(parseOptions(['--taskset', '0-1,3']).taskset).toBe('0-1,3');
	});

	it('refuses wrong values with a message saying what to give', () => {
		expect(() => parseOptions(['--corpus-kind', 'huge'])).toThrow(/--corpus-kind "huge": use small, files, large, system/);
		expect(() => parseOptions(['--suite', '--corpus-kind', 'small'])).toThrow(/either --suite or --corpus-kind/);
		expect(() => parseOptions(['--file-counts', '10k'])).toThrow(/--file-counts "10k"/);
		expect(() => parseOptions(['--taskset', 'first'])).toThrow(/CPU list/);
		expect(() => parseOptions(['--node', 'a', '--runtimes', 'b'])).toThrow(/either --node or --runtimes/);
		expect(() => parseOptions(['--rounds', '0'])).toThrow(/at least 1/);
		expect(() => parseOptions(['--only', 'borg'])).toThrow(/cairn or restic/);
	});
});
