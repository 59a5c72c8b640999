/**
 * Shared helpers of the component tests: temporary environments, real local repositories,
 * key codes and waiting for a frame.
 */
import {mkdtemp, mkdir, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {EventEmitter} from 'node:events';
import type {ReactElement} from 'react';
import {render as renderInk} from 'ink';
import {afterEach} from 'vitest';
import {createLocalStorage} from '../../adapters/local.js';
import {Repository} from '../../engine/repository/repository.js';
import {runBackup, type BackupSummary} from '../../engine/archiver/archiver.js';
import {App} from '../../components/app.js';
import {findDefaultRepositoryPath, openProfileStore, type Profile} from '../../components/profiles.js';

/** Key sequences as a terminal sends them. */
export const KEYS = {
	enter: '\r',
	escape: '\u001B',
	up: '\u001B[A',
	down: '\u001B[B',
	right: '\u001B[C',
	left: '\u001B[D',
	tab: '\t',
	backspace: '\u007F',
	space: ' ',
	pageDown: '\u001B[6~',
	end: '\u001B[F',
	home: '\u001B[H',
	ctrlU: '\u0015',
	ctrlG: '\u0007',
	shiftTab: '\u001B[Z',
} as const;

/** A temporary home with XDG directories, removed by `dispose`. */
export interface TestEnvironment {
	readonly root: string;
	readonly env: Record<string, string>;
	readonly cwd: string;
	dispose(): Promise<void>;
}

/** Creates a temporary environment: HOME, XDG_CONFIG_HOME and XDG_DATA_HOME under one directory. */
export async function createTestEnvironment(extra: Record<string, string> = {}): Promise<TestEnvironment> {
	const root = await mkdtemp(join(tmpdir(), 'cairn-tui-'));
	const home = join(root, 'home');
	const cwd = join(root, 'work');
	await mkdir(home, {recursive: true});
	await mkdir(cwd, {recursive: true});
	const env = {HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local', 'share'), NO_COLOR: '1', ...extra};
	return {root, env, cwd, dispose: () => rm(root, {recursive: true, force: true})};
}

/** What one component test leaves behind: its environment and its rendered app's cleanup. */
export interface TestResources {
	environment?: TestEnvironment;
	cleanup?: () => void;
}

/**
 * Registers an afterEach that unmounts the app (`cleanup`) and removes the environment a test stored
 * in the returned object, then clears both for the next test. Call once at the top of a test file.
 */
export function disposeAfterEach(): TestResources {
	const resources: TestResources = {};
	afterEach(async () => {
		resources.cleanup?.();
		resources.cleanup = undefined;
		await resources.environment?.dispose();
		resources.environment = undefined;
	});
	return resources;
}

/** Writes files (paths relative to `dir`, content strings or buffers). */
export async function writeTree(dir: string, files: Record<string, string | Buffer>): Promise<void> {
	for (const [name, content] of Object.entries(files)) {
		const path = join(dir, name);
		await mkdir(join(path, '..'), {recursive: true});
		await writeFile(path, content);
	}
}

/** Creates a repository at `path` and backs up each list of paths into a snapshot. */
export async function createRepository(path: string, password: string, backups: Array<{paths: string[]; tags?: string[]}> = []): Promise<BackupSummary[]> {
	const repo = await Repository.init(createLocalStorage(path), password);
	const summaries: BackupSummary[] = [];
	try {
		for (const backup of backups) summaries.push(await runBackup(repo, {paths: backup.paths, tags: backup.tags, noLock: true}));
	} finally {
		await repo.close();
	}
	return summaries;
}

/** Saves a profile in the environment's store. */
export function saveProfile(env: Record<string, string>, profile: Profile): void {
	openProfileStore(env).saveProfile(profile);
}

/** The quick start repository path of an environment. */
export function quickStartPath(env: Record<string, string>): string {
	return findDefaultRepositoryPath(env);
}

/** A terminal size for rendering. */
export interface TerminalSize {
	readonly columns: number;
	readonly rows: number;
}

/** The standard small terminal every screen must fit. */
export const SMALL: TerminalSize = {columns: 80, rows: 24};
/** A wide terminal. */
export const WIDE: TerminalSize = {columns: 132, rows: 40};

class FakeStdout extends EventEmitter {
	frames: string[] = [];
	private last: string | undefined;
	constructor(public columns: number, public rows: number) {
		super();
	}
	readonly isTTY = true;
	write = (frame: string): boolean => {
		this.frames.push(frame);
		this.last = frame;
		return true;
	};
	lastFrame = (): string | undefined => this.last;
	/** Changes the size and tells the app, as a terminal resize does. */
	resize(size: TerminalSize): void {
		this.columns = size.columns;
		this.rows = size.rows;
		this.emit('resize');
	}
}

class FakeStdin extends EventEmitter {
	isTTY = true;
	private data: string | null = null;
	write = (data: string): void => {
		this.data = data;
		this.emit('readable');
		this.emit('data', data);
	};
	read = (): string | null => {
		const {data} = this;
		this.data = null;
		return data;
	};
	setEncoding(): void {}
	setRawMode(): void {}
	resume(): void {}
	pause(): void {}
	ref(): void {}
	unref(): void {}
}

/** What {@link renderSized} returns: as ink-testing-library's render, plus resizing. */
export interface RenderedApp {
	lastFrame(): string | undefined;
	readonly stdin: {write(data: string): void};
	resize(size: TerminalSize): void;
	cleanup(): void;
	unmount(): void;
}

/** Renders a tree on a fake terminal of the given size (80×24 unless told). */
export function renderSized(tree: ReactElement, size: TerminalSize = SMALL): RenderedApp {
	const stdout = new FakeStdout(size.columns, size.rows);
	const stderr = new FakeStdout(size.columns, size.rows);
	const stdin = new FakeStdin();
	const instance = renderInk(tree, {
		stdout: stdout as unknown as NodeJS.WriteStream,
		stderr: stderr as unknown as NodeJS.WriteStream,
		stdin: stdin as unknown as NodeJS.ReadStream,
		debug: true,
		exitOnCtrlC: false,
		patchConsole: false,
	});
	return {
		lastFrame: stdout.lastFrame,
		stdin,
		resize: (next) => stdout.resize(next),
		cleanup: () => {
			instance.unmount();
			instance.cleanup();
		},
		unmount: () => instance.unmount(),
	};
}

/** Renders the app in an environment, on a terminal of the given size (80×24 unless told). */
export function renderApp(environment: TestEnvironment, size: TerminalSize = SMALL): RenderedApp {
	return renderSized(<App env={environment.env} cwd={environment.cwd} stopTimeoutMs={2000} />, size);
}

/** The lines of a frame; fails when the frame would not fit the terminal (one row is kept free). */
export function checkFrameFits(frame: string, size: TerminalSize): string[] {
	const lines = frame.split('\n');
	if (lines.length > size.rows - 1) throw new Error(`the frame has ${lines.length} lines, more than ${size.rows - 1}:\n${frame}`);
	const wide = lines.find((line) => [...line].length > size.columns);
	if (wide !== undefined) throw new Error(`a line is wider than ${size.columns} columns: ${JSON.stringify(wide)}`);
	return lines;
}

/** Waits until the last frame matches (text, pattern or predicate); returns it. Fails with the frame after `timeoutMs`. */
export async function waitForFrame(lastFrame: () => string | undefined, match: string | RegExp | ((frame: string) => boolean), timeoutMs = 15_000): Promise<string> {
	const test = typeof match === 'string' ? (f: string) => f.includes(match) : match instanceof RegExp ? (f: string) => match.test(f) : match;
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const frame = lastFrame() ?? '';
		if (test(frame)) return frame;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(match)}; last frame:\n${frame}`);
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}

/** Writes keys one after another, letting the app take each. */
export async function press(stdin: {write(data: string): void}, ...keys: string[]): Promise<void> {
	for (const key of keys) {
		stdin.write(key);
		await new Promise((resolve) => setTimeout(resolve, 30));
	}
}
