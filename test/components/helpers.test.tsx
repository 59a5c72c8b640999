import {mkdir, stat, writeFile, readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import type {Key} from 'ink';
import {fitText, formatLocalTime, formatRelativeTime, parseRepositoryTime, shortenId, truncateEnd, truncateStart} from '../../components/format.js';
import {editText} from '../../components/ui/text-field.js';
import {splitKeyPresses} from '../../components/ui/keys.js';
import {formatHelpLine} from '../../components/ui/screen-frame.js';
import {describeProgress, formatBar} from '../../components/ui/progress-view.js';
import {completePath, expandPath, findCommonPrefix} from '../../components/path-completion.js';
import {chooseProfileName, findConfigDirectory, findDefaultRepositoryPath, openProfileStore} from '../../components/profiles.js';
import {describeLocation, normalizeLocation, probeRepository} from '../../components/session.js';
import {findStartPath, describeEntry} from '../../components/screens/browser.js';
import {checkRestoreTarget, describeRestoredItems, suggestRestoreTarget} from '../../components/screens/restore.js';
import {parseTags} from '../../components/screens/backup.js';
import {checkNewPassword} from '../../components/screens/quick-start.js';
import {checkProfileName} from '../../components/screens/add-repository.js';
import {enterFullScreen, ENTER_ALTERNATE_SCREEN, LEAVE_ALTERNATE_SCREEN} from '../../components/terminal.js';
import {isColorAllowed} from '../../components/app.js';
import {createTestEnvironment, createRepository, type TestEnvironment} from './harness.js';

const NO_KEY: Key = {
	upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false,
	return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false,
	super: false, hyper: false, capsLock: false, numLock: false,
};

let environment: TestEnvironment | undefined;
afterEach(async () => {
	await environment?.dispose();
	environment = undefined;
});

describe('formatting', () => {
	it('formats times, IDs and cut text', () => {
		const date = parseRepositoryTime('2024-05-01T12:30:05.123456789+02:00');
		expect(date?.toISOString()).toBe('2024-05-01T10:30:05.123Z');
		expect(parseRepositoryTime('yesterday')).toBeUndefined();
		expect(formatLocalTime(new Date(2024, 4, 1, 9, 5, 7))).toBe('2024-05-01 09:05');
		expect(formatLocalTime(new Date(2024, 4, 1, 9, 5, 7), true)).toBe('2024-05-01 09:05:07');
		const now = Date.UTC(2024, 4, 10);
		expect(formatRelativeTime(new Date(now - 30_000), now)).toBe('just now');
		expect(formatRelativeTime(new Date(now - 5 * 60_000), now)).toBe('5 min ago');
		expect(formatRelativeTime(new Date(now - 3 * 3_600_000), now)).toBe('3 h ago');
		expect(formatRelativeTime(new Date(now - 5 * 86_400_000), now)).toBe('5 days ago');
		expect(formatRelativeTime(new Date(now - 400 * 86_400_000), now)).toBe('13 mo ago');
		expect(shortenId('0123456789abcdef')).toBe('01234567');
		expect(truncateEnd('abcdef', 4)).toBe('abc…');
		expect(truncateStart('/a/b/c/d', 5)).toBe('…/c/d');
		expect(fitText('ab', 4)).toBe('ab  ');
	});

	it('draws progress figures and bars', () => {
		expect(formatBar(0.5, 10)).toBe('█████░░░░░');
		expect(describeProgress(undefined)).toEqual([['Status', 'starting…']]);
		const lines = Object.fromEntries(describeProgress({kind: 'restore', filesDone: 2, filesTotal: 4, bytesDone: 1024, bytesTotal: 2048, errors: 1, elapsed: 3, bytesPerSecond: 512, eta: 2}));
		expect(lines).toMatchObject({Files: '2 of 4', Data: '1.00 KiB of 2.00 KiB', Speed: '512 B/s', Left: 'about 0:02', Errors: '1'});
	});

	it('always ends the help line with ? help and q quit, or Ctrl-G help while typing', () => {
		const help = [{keys: 'Enter', action: 'open'}, {keys: 'x', action: 'hidden', more: true}, {keys: 'b', action: 'back up'}];
		expect(formatHelpLine(help, false, 80).map((item) => item.keys)).toEqual(['Enter', 'b', '?', 'q']);
		expect(formatHelpLine(help, true, 80).map((item) => item.keys)).toEqual(['Enter', 'b', 'Ctrl-G']);
		expect(formatHelpLine(help, false, 30).map((item) => item.keys)).toEqual(['Enter', '?', 'q']);
	});

	it('turns colours off with NO_COLOR', () => {
		expect(isColorAllowed({})).toBe(true);
		expect(isColorAllowed({NO_COLOR: '1'})).toBe(false);
	});
});

describe('keys and text fields', () => {
	it('edits text with typing, Backspace, Ctrl-U and Ctrl-W', () => {
		expect(editText('ab', 'c', NO_KEY)).toBe('abc');
		expect(editText('abc', '', {...NO_KEY, backspace: true})).toBe('ab');
		expect(editText('abc', '', {...NO_KEY, delete: true})).toBe('ab');
		expect(editText('abc', 'u', {...NO_KEY, ctrl: true})).toBe('');
		expect(editText('/home/me/docs', 'w', {...NO_KEY, ctrl: true})).toBe('/home/me/');
		expect(editText('ab', 'pasted\ntext', NO_KEY)).toBe('abpastedtext');
		expect(editText('ab', '', {...NO_KEY, return: true})).toBeUndefined();
		expect(editText('ab', '', {...NO_KEY, upArrow: true})).toBeUndefined();
	});

	it('splits keys that arrived together', () => {
		const presses = splitKeyPresses('secret\rsecret\r', NO_KEY);
		expect(presses.map((p) => [p.input, p.key.return])).toEqual([['secret', false], ['', true], ['secret', false], ['', true]]);
		expect(splitKeyPresses('ab\u007f\t', NO_KEY).map((p) => [p.input, p.key.delete, p.key.tab])).toEqual([['ab', false, false], ['', true, false], ['', false, true]]);
		expect(splitKeyPresses('x', NO_KEY)).toEqual([{input: 'x', key: NO_KEY}]);
		expect(splitKeyPresses('hello', NO_KEY)).toEqual([{input: 'hello', key: NO_KEY}]);
	});
});

describe('paths and profiles', () => {
	it('completes paths against the file system', async () => {
		environment = await createTestEnvironment();
		const base = environment.cwd;
		await mkdir(join(base, 'documents'));
		await mkdir(join(base, 'downloads'));
		await writeFile(join(base, 'documents', 'report.txt'), 'x');
		await writeFile(join(base, '.hidden'), 'x');
		expect(await completePath('doc', base, environment.env.HOME)).toEqual({value: 'documents/', candidates: []});
		expect(await completePath('d', base, environment.env.HOME)).toEqual({value: 'do', candidates: ['documents/', 'downloads/']});
		expect(await completePath('documents/r', base, environment.env.HOME)).toEqual({value: 'documents/report.txt', candidates: []});
		expect(await completePath('.h', base, environment.env.HOME)).toEqual({value: '.hidden', candidates: []});
		expect(await completePath('nothing', base, environment.env.HOME)).toEqual({value: 'nothing', candidates: []});
		expect(await completePath('missing/x', base, environment.env.HOME)).toEqual({value: 'missing/x', candidates: []});
		expect(findCommonPrefix(['abc', 'abd', 'ab'])).toBe('ab');
		expect(expandPath('~/x', '/cwd', '/home/me')).toBe('/home/me/x');
		expect(expandPath('y', '/cwd', '/home/me')).toBe('/cwd/y');
	});

	it('saves profiles in $XDG_CONFIG_HOME/cairn with mode 0600 and no password', async () => {
		environment = await createTestEnvironment();
		const store = openProfileStore(environment.env);
		expect(store.listProfiles()).toEqual([]);
		store.saveProfile({name: 'default', location: 'local:/srv/repo'});
		store.saveProfile({name: 'usb', location: 'local:/media/usb'});
		store.saveProfile({name: 'default', location: 'local:/srv/repo', backupPaths: ['/home/me']});
		expect(store.path).toBe(join(findConfigDirectory(environment.env), 'config.json'));
		expect(store.path.startsWith(environment.env.XDG_CONFIG_HOME)).toBe(true);
		expect((await stat(store.path)).mode & 0o777).toBe(0o600);
		expect(openProfileStore(environment.env).listProfiles()).toEqual([{name: 'default', location: 'local:/srv/repo', backupPaths: ['/home/me']}, {name: 'usb', location: 'local:/media/usb'}]);
		store.removeProfile('usb');
		expect(store.listProfiles().map((p) => p.name)).toEqual(['default']);
		expect(await readFile(store.path, 'utf8')).not.toMatch(/password/i);
		expect(chooseProfileName(store.listProfiles(), 'default')).toBe('default-2');
		expect(findDefaultRepositoryPath(environment.env)).toBe(join(environment.env.XDG_DATA_HOME, 'cairn', 'repository'));
		expect(findDefaultRepositoryPath({HOME: '/home/x'})).toBe('/home/x/.local/share/cairn/repository');
	});

	it('checks and normalises locations through the registry', async () => {
		environment = await createTestEnvironment();
		expect(normalizeLocation('repo', '/work', '/home/me')).toBe('local:/work/repo');
		expect(normalizeLocation('~/backup', '/work', '/home/me')).toBe('local:/home/me/backup');
		expect(normalizeLocation('local:/srv/r', '/work', '/home/me')).toBe('local:/srv/r');
		expect(() => normalizeLocation('nope:thing', '/work', '/home/me')).toThrow(/unknown repository type "nope"/);
		expect(() => normalizeLocation('  ', '/work', '/home/me')).toThrow(/no repository location/);
		expect(describeLocation('local:/srv/r')).toEqual({backend: 'Local directory', location: '/srv/r', available: true});
		expect(describeLocation('/srv/r')).toEqual({backend: 'Local directory', location: '/srv/r', available: true});
		expect(describeLocation('nope:x')).toEqual({backend: 'unknown (nope)', location: 'nope:x', available: false});
		const path = join(environment.root, 'repo');
		expect(await probeRepository(`local:${path}`)).toBe(false);
		await createRepository(path, 'pw');
		expect(await probeRepository(`local:${path}`)).toBe(true);
	});
});

describe('screen helpers', () => {
	it('finds where the browser starts', () => {
		expect(findStartPath(['/home/me/docs'])).toEqual(['home', 'me']);
		expect(findStartPath(['/home/me/docs', '/home/me/pics'])).toEqual(['home', 'me']);
		expect(findStartPath(['/home/me/docs', '/srv/data'])).toEqual([]);
		expect(findStartPath([])).toEqual([]);
	});

	it('describes entries on one line', () => {
		const text = describeEntry({name: 'a', type: 'file', mode: 0o644, size: 2048, mtime: '2024-01-02T03:04:05Z', atime: '', ctime: '', uid: 1000, gid: 1000, user: 'me', group: 'staff', content: []});
		expect(text).toContain('-rw-r--r--');
		expect(text).toContain('me:staff');
		expect(text).toContain('2.00 KiB (2048 bytes)');
		const link = describeEntry({name: 'l', type: 'symlink', mode: 2 ** 27 + 0o777, mtime: '2024-01-02T03:04:05Z', atime: '', ctime: '', uid: 0, gid: 0, linktarget: '/etc/hosts', content: null});
		expect(link).toContain('→ /etc/hosts');
	});

	it('checks restore targets and describes what was restored', async () => {
		environment = await createTestEnvironment();
		expect(suggestRestoreTarget('abcdef0123456789')).toBe('./cairn-restore-abcdef01');
		expect(await checkRestoreTarget(join(environment.cwd, 'new'))).toBeUndefined();
		await mkdir(join(environment.cwd, 'empty'));
		expect(await checkRestoreTarget(join(environment.cwd, 'empty'))).toBeUndefined();
		await writeFile(join(environment.cwd, 'empty', 'f'), 'x');
		expect(await checkRestoreTarget(join(environment.cwd, 'empty'))).toBe('not-empty');
		expect(await checkRestoreTarget(join(environment.cwd, 'empty', 'f'))).toMatch(/is a file/);
		const snapshot = {id: 'x', time: '', tree: '', paths: ['/home/me/docs']};
		expect(describeRestoredItems('/t', [], snapshot)).toEqual(['/t/home/me/docs']);
		expect(describeRestoredItems('/t', ['home/me/docs/a.txt'], snapshot)).toEqual(['/t/home/me/docs/a.txt']);
	});

	it('checks form input', () => {
		expect(parseTags(' daily, work  x ')).toEqual(['daily', 'work', 'x']);
		expect(checkNewPassword('', '')).toMatch(/Type a password/);
		expect(checkNewPassword('a', 'b')).toMatch(/differ/);
		expect(checkNewPassword('a', 'a')).toBeUndefined();
		expect(checkProfileName(' ', [])).toMatch(/name/);
		expect(checkProfileName('default', ['default'])).toMatch(/already saved/);
		expect(checkProfileName('usb', ['default'])).toBeUndefined();
	});

	it('enters the alternate screen and restores the terminal once', () => {
		const written: string[] = [];
		const modes: boolean[] = [];
		const screen = enterFullScreen({stdout: {write: (text) => written.push(text)}, stdin: {isTTY: true, setRawMode: (mode) => modes.push(mode)}});
		expect(written).toEqual([ENTER_ALTERNATE_SCREEN]);
		expect(ENTER_ALTERNATE_SCREEN).toContain('\u001B[?1049h');
		screen.restore();
		screen.restore();
		expect(screen.restored).toBe(true);
		expect(written).toEqual([ENTER_ALTERNATE_SCREEN, LEAVE_ALTERNATE_SCREEN]);
		expect(LEAVE_ALTERNATE_SCREEN).toContain('\u001B[?1049l');
		expect(modes).toEqual([false]);
	});
});
