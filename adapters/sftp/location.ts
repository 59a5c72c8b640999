/**
 * SFTP locations in restic's two syntaxes:
 *
 * - `sftp:USER@HOST:PATH`, where PATH is relative to the login directory unless it starts with
 *   `/` (IPv6 hosts in brackets: `sftp:USER@[::1]:/srv/repo`);
 * - `sftp://USER@HOST:PORT/PATH`, where one slash after the port makes PATH relative and two
 *   make it absolute (`sftp://backup@nas:2222//srv/repo` is `/srv/repo`).
 *
 * The user is optional in both. Paths starting with `~` are refused, as restic does: most servers
 * do not expand them, and a relative path already starts at the home directory.
 */

import {posix} from 'node:path';

/** The values a location holds: `host` and `path`, and `username` and `port` when given. */
export function parseSftpLocation(rest: string): Record<string, string> {
	const values: Record<string, string> = rest.startsWith('//') ? parseUrlForm(rest) : parseScpForm(rest);
	values['path'] = cleanPath(values['path'] ?? '');
	return values;
}

/** The inverse of {@link parseSftpLocation}: the URL form when a port is given, else the scp-like form. */
export function formatSftpLocation(values: Readonly<Record<string, string>>): string {
	const user = values['username'] ? `${values['username']}@` : '';
	const host = (values['host'] ?? '').includes(':') ? `[${values['host']}]` : (values['host'] ?? '');
	const path = values['path'] ?? '';
	if (values['port']) return `//${encodeUser(user)}${host}:${values['port']}/${path}`;
	return `${user}${host}:${path}`;
}

function parseUrlForm(rest: string): Record<string, string> {
	let url: URL;
	try {
		url = new URL(`sftp:${rest}`);
	} catch {
		throw new Error('the URL form is sftp://USER@HOST:PORT/PATH (two slashes before an absolute path)');
	}
	if (url.password !== '') throw new Error('a password in the location is not supported: use a key (-o sftp.key-file=…) or -o sftp.password / CAIRN_SFTP_PASSWORD');
	if (url.search !== '' || url.hash !== '') throw new Error('the location cannot hold ? or #');
	const values: Record<string, string> = {host: url.hostname.replace(/^\[(.*)\]$/, '$1')};
	if (url.username !== '') values['username'] = decodeURIComponent(url.username);
	if (url.port !== '') values['port'] = url.port;
	const path = decodeURIComponent(url.pathname).slice(1);
	if (path === '' || path === '/') throw new Error('no directory given: write sftp://USER@HOST:PORT//ABSOLUTE/PATH or sftp://USER@HOST/RELATIVE/PATH');
	values['path'] = path;
	if (values['host'] === '') throw new Error('no host given');
	return values;
}

function parseScpForm(rest: string): Record<string, string> {
	const at = rest.lastIndexOf('@', rest.indexOf('[') >= 0 ? rest.indexOf('[') : findColon(rest));
	const user = at > 0 ? rest.slice(0, at) : '';
	const hostAndPath = at >= 0 ? rest.slice(at + 1) : rest;
	let host: string;
	let path: string;
	if (hostAndPath.startsWith('[')) {
		const close = hostAndPath.indexOf(']');
		if (close < 0 || hostAndPath[close + 1] !== ':') throw new Error('an IPv6 host is written in brackets followed by a colon, e.g. sftp:user@[::1]:/srv/repo');
		host = hostAndPath.slice(1, close);
		path = hostAndPath.slice(close + 2);
	} else {
		const colon = hostAndPath.indexOf(':');
		if (colon < 0) throw new Error('the host and the path are separated by a colon, e.g. sftp:user@host:/srv/repo');
		host = hostAndPath.slice(0, colon);
		path = hostAndPath.slice(colon + 1);
	}
	if (host === '') throw new Error('no host given');
	if (path === '') throw new Error('no directory given after the colon');
	const values: Record<string, string> = {host, path};
	if (user !== '') values['username'] = user;
	return values;
}

/** Index of the colon between host and path in the scp-like form (the first one). */
function findColon(rest: string): number {
	const colon = rest.indexOf(':');
	return colon < 0 ? rest.length : colon;
}

function cleanPath(path: string): string {
	if (path === '') return path;
	if (path.startsWith('~')) {
		throw new Error('the path starts with ~, which most SFTP servers do not expand; write a relative path instead (it starts at the home directory)');
	}
	const cleaned = posix.normalize(path);
	return cleaned.length > 1 ? cleaned.replace(/\/+$/, '') : cleaned;
}

function encodeUser(user: string): string {
	return user === '' ? '' : `${encodeURIComponent(user.slice(0, -1))}@`;
}
