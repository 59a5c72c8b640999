/**
 * Which key file opened a repository last time, kept in the cache base directory so that the next
 * open loads that key file at once, while the config is fetched, instead of listing `keys/` first
 * (a round trip less on a slow link, for every command).
 *
 * One small file per location: `<cache base>/key-hints/<SHA-256 of the location>`, mode 0600 in a
 * 0700 folder, holding the key file's name (the hash of a file anyone who can list the repository
 * sees; no secret). The location is hashed so that the cache does not list the repositories used.
 * restic leaves the folder alone (its cache clean-up only looks at repository-ID folders), as does
 * `cairn cache --cleanup`. A hint that is missing, unreadable or wrong only costs the listing.
 */
import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import * as fs from 'node:fs/promises';
import {join} from 'node:path';
import {writeAtomically} from './cache.js';

const KEY_ID = /^[0-9a-f]{64}$/;

/** The hint file of a location. */
function findHintPath(cacheBase: string, location: string): string {
	return join(cacheBase, 'key-hints', createHash('sha256').update(location).digest('hex'));
}

/** The key file that opened the repository at `location` last time, or undefined. Never throws. */
export function readKeyHint(cacheBase: string, location: string): string | undefined {
	try {
		const text = readFileSync(findHintPath(cacheBase, location), 'latin1').trim();
		return KEY_ID.test(text) ? text : undefined;
	} catch {
		return undefined;
	}
}

/** Records the key file that opened the repository at `location`. Failures are ignored (the hint is only a shortcut). */
export async function saveKeyHint(cacheBase: string, location: string, keyId: string): Promise<void> {
	if (!KEY_ID.test(keyId)) return;
	try {
		await fs.mkdir(join(cacheBase, 'key-hints'), {recursive: true, mode: 0o700});
		await writeAtomically(findHintPath(cacheBase, location), Buffer.from(`${keyId}\n`));
	} catch {
		// the next open lists keys/ as without a hint
	}
}
