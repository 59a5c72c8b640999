/**
 * OpenSSH's known_hosts file: looking up the keys recorded for a host, SHA256 fingerprints as
 * `ssh-keygen -l` prints them, and recording a newly trusted key.
 *
 * Supported: plain and hashed (`|1|salt|hash`) host names, `[host]:port` for ports other than
 * 22, comma-separated patterns with `*` and `?` wildcards and `!` negation, and the `@revoked`
 * marker. `@cert-authority` lines are skipped (host certificates are not supported).
 */

import {createHash, createHmac} from 'node:crypto';
import {appendFile, mkdir, readFile} from 'node:fs/promises';
import {dirname} from 'node:path';

/** One key recorded for a host. */
export interface KnownHostKey {
	/** Key type as written in the file, e.g. `ssh-ed25519`. */
	readonly type: string;
	/** The public key blob. */
	readonly key: Buffer;
	/** Line number in the file, from 1. */
	readonly line: number;
	readonly revoked: boolean;
}

/** The name OpenSSH looks up for a host and port: `host`, or `[host]:port` when the port is not 22. */
export function formatKnownHostName(host: string, port: number): string {
	return port === 22 ? host : `[${host}]:${port}`;
}

/** `SHA256:<base64 without padding>` of a public key blob, as OpenSSH prints fingerprints. */
export function fingerprintKey(key: Uint8Array): string {
	return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The type name inside a public key blob (its first string), e.g. `ssh-ed25519`; '' when unreadable. */
export function readKeyType(key: Uint8Array): string {
	const buffer = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
	if (buffer.length < 4) return '';
	const length = buffer.readUInt32BE(0);
	if (length > 64 || 4 + length > buffer.length) return '';
	return buffer.subarray(4, 4 + length).toString('latin1');
}

/** `ED25519`, `ECDSA`, `RSA`, as OpenSSH names key types in messages. */
export function describeKeyType(type: string): string {
	if (type === 'ssh-ed25519') return 'ED25519';
	if (type.startsWith('ecdsa-')) return 'ECDSA';
	if (type === 'ssh-rsa' || type.startsWith('rsa-')) return 'RSA';
	if (type === 'ssh-dss') return 'DSA';
	return type || 'unknown';
}

/**
 * The keys recorded for `host` (a name from {@link formatKnownHostName}) in the text of a
 * known_hosts file, in file order, revoked ones marked.
 */
export function findKnownHostKeys(text: string, hostName: string): KnownHostKey[] {
	const keys: KnownHostKey[] = [];
	const lines = text.split('\n');
	for (const [index, raw] of lines.entries()) {
		const line = raw.trim();
		if (line === '' || line.startsWith('#')) continue;
		const fields = line.split(/\s+/);
		let marker: string | undefined;
		if (fields[0]!.startsWith('@')) marker = fields.shift();
		if (marker === '@cert-authority' || fields.length < 3) continue;
		const [patterns, type, encoded] = fields as [string, string, string];
		if (!matchesHostPatterns(patterns, hostName)) continue;
		const key = Buffer.from(encoded, 'base64');
		if (key.length === 0) continue;
		keys.push({type, key, line: index + 1, revoked: marker === '@revoked'});
	}
	return keys;
}

/** Reads a known_hosts file; a missing file is an empty one. */
export async function readKnownHostsFile(path: string): Promise<string> {
	try {
		return await readFile(path, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
		throw error;
	}
}

/**
 * Records a key for a host at the end of a known_hosts file (created with mode 0600, its
 * directory with 0700, when missing), in the plain form `ssh-keyscan` prints.
 */
export async function addKnownHostKey(path: string, hostName: string, key: Uint8Array): Promise<void> {
	await mkdir(dirname(path), {recursive: true, mode: 0o700});
	const existing = await readKnownHostsFile(path);
	const separator = existing === '' || existing.endsWith('\n') ? '' : '\n';
	const line = `${hostName} ${readKeyType(key)} ${Buffer.from(key).toString('base64')}\n`;
	await appendFile(path, separator + line, {mode: 0o600});
}

/** Tells whether a comma-separated pattern list matches a host name (a negated match wins). */
function matchesHostPatterns(patterns: string, hostName: string): boolean {
	if (patterns.startsWith('|1|')) return matchesHashedName(patterns, hostName);
	let matched = false;
	for (const pattern of patterns.split(',')) {
		const negated = pattern.startsWith('!');
		const body = negated ? pattern.slice(1) : pattern;
		if (!matchesWildcard(body, hostName)) continue;
		if (negated) return false;
		matched = true;
	}
	return matched;
}

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, name))` */
function matchesHashedName(field: string, hostName: string): boolean {
	const parts = field.split('|');
	if (parts.length !== 4) return false;
	const salt = Buffer.from(parts[2]!, 'base64');
	const expected = Buffer.from(parts[3]!, 'base64');
	const actual = createHmac('sha1', salt).update(hostName).digest();
	return expected.length === actual.length && expected.equals(actual);
}

/** OpenSSH wildcard matching: `*` any run, `?` one character, case-insensitive. */
function matchesWildcard(pattern: string, name: string): boolean {
	const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
	return new RegExp(`^${source}$`, 'i').test(name);
}
