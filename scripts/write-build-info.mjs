#!/usr/bin/env node
/**
 * Records which cairn a build is: writes DIST_DIR/build-info.json (default dist/) with the
 * package version and the commit of the work tree (a short hash, `-dirty` when tracked files
 * differ from it, `unknown` outside a git checkout). engine/version.ts reads it for
 * `cairn --version`; scripts/package.mjs puts it into the executables.
 */
import {execFileSync} from 'node:child_process';
import {mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = resolve(process.argv[2] ?? join(root, 'dist'));

function git(...args) {
	return execFileSync('git', args, {cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim();
}

/** The commit of the work tree, or `unknown` (no git, or not a checkout). */
function describeCommit() {
	try {
		const commit = git('rev-parse', '--short=12', 'HEAD');
		let dirty = false;
		try {
			git('diff', '--quiet', 'HEAD', '--');
		} catch {
			dirty = true;
		}
		return dirty ? `${commit}-dirty` : commit;
	} catch {
		return 'unknown';
	}
}

const {version} = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const target = join(dist, 'build-info.json');
mkdirSync(dist, {recursive: true});
writeFileSync(`${target}.${process.pid}.tmp`, `${JSON.stringify({version, commit: describeCommit()})}\n`);
renameSync(`${target}.${process.pid}.tmp`, target);
