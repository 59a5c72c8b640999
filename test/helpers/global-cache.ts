/**
 * vitest global setup: points the XDG cache directory (where cairn and restic keep their local
 * caches) at a temporary directory for the whole run, so tests never fill the user's cache, and
 * removes it afterwards. Test processes and the programs they start inherit the variable.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export default function setup(): () => void {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'cairn-test-xdg-cache-'));
	process.env.XDG_CACHE_HOME = dir;
	return () => rmSync(dir, {recursive: true, force: true});
}
