/**
 * File modes. restic stores Go's os.FileMode, whose type bits differ from Unix st_mode.
 */
import {constants} from 'node:fs';

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;

export const GO_MODE = {
	dir: 2 ** 31,
	symlink: 2 ** 27,
	device: 2 ** 26,
	namedPipe: 2 ** 25,
	socket: 2 ** 24,
	setuid: 2 ** 23,
	setgid: 2 ** 22,
	charDevice: 2 ** 21,
	sticky: 2 ** 20,
	irregular: 2 ** 19,
} as const;

/** The node types restic knows. */
export type NodeType = 'file' | 'dir' | 'symlink' | 'dev' | 'chardev' | 'fifo' | 'socket' | 'irregular';

/** Converts a Unix st_mode to Go's os.FileMode as a number (may exceed 2^31, so never use bit ops on it). */
export function unixToGoMode(mode: number): number {
	let go = mode & 0o777;
	if (mode & S_ISUID) go += GO_MODE.setuid;
	if (mode & S_ISGID) go += GO_MODE.setgid;
	if (mode & S_ISVTX) go += GO_MODE.sticky;
	switch (mode & constants.S_IFMT) {
		case constants.S_IFDIR: go += GO_MODE.dir; break;
		case constants.S_IFLNK: go += GO_MODE.symlink; break;
		case constants.S_IFBLK: go += GO_MODE.device; break;
		case constants.S_IFCHR: go += GO_MODE.device + GO_MODE.charDevice; break;
		case constants.S_IFIFO: go += GO_MODE.namedPipe; break;
		case constants.S_IFSOCK: go += GO_MODE.socket; break;
		default: break;
	}
	return go;
}

function hasBit(mode: number, bit: number): boolean {
	return Math.floor(mode / bit) % 2 === 1;
}

/** The permission and special bits (setuid, setgid, sticky) of a Go mode as a Unix mode for chmod. */
export function goModeToUnixPermissions(goMode: number): number {
	let mode = goMode % 512;
	if (hasBit(goMode, GO_MODE.setuid)) mode |= S_ISUID;
	if (hasBit(goMode, GO_MODE.setgid)) mode |= S_ISGID;
	if (hasBit(goMode, GO_MODE.sticky)) mode |= S_ISVTX;
	return mode;
}

/** Formats a Go mode like `ls -l` (e.g. `drwxr-xr-x`). */
export function formatMode(goMode: number, type: NodeType): string {
	const first: Record<NodeType, string> = {file: '-', dir: 'd', symlink: 'L', dev: 'D', chardev: 'c', fifo: 'p', socket: 'S', irregular: '?'};
	const perm = goMode % 512;
	let text = first[type];
	const letters = 'rwxrwxrwx';
	for (let i = 0; i < 9; i++) text += perm & (1 << (8 - i)) ? letters[i] : '-';
	return text;
}
