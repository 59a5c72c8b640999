/**
 * Which cairn this is: the package version and the commit it was built from, as recorded by the
 * build (scripts/write-build-info.mjs writes dist/build-info.json; the single-file executable
 * carries the same file inside). Run from the TypeScript sources, without a build, the version
 * comes from package.json and the commit is unknown.
 */
import {readFileSync} from 'node:fs';
import {readEmbeddedText} from './util/embedded.js';

/** The build's identity. `commit` is a short hash, with `-dirty` when the tree had changes, or `unknown`. */
export interface BuildInfo {
	readonly version: string;
	readonly commit: string;
}

let cached: BuildInfo | undefined;

function parseBuildInfo(text: string | undefined): BuildInfo | undefined {
	if (text === undefined) return undefined;
	try {
		const value = JSON.parse(text) as Partial<BuildInfo>;
		if (typeof value.version !== 'string') return undefined;
		return {version: value.version, commit: typeof value.commit === 'string' && value.commit !== '' ? value.commit : 'unknown'};
	} catch {
		return undefined;
	}
}

function readText(relativePath: string): string | undefined {
	try {
		return readFileSync(new URL(relativePath, import.meta.url), 'utf8');
	} catch {
		return undefined;
	}
}

/** The version and commit of this cairn (read once). */
export function readBuildInfo(): BuildInfo {
	cached ??= parseBuildInfo(readEmbeddedText('build-info.json'))
		?? parseBuildInfo(readText('../build-info.json'))
		?? parseBuildInfo(readText('../package.json'))
		?? {version: 'unknown', commit: 'unknown'};
	return cached;
}

/** What `cairn --version` prints: e.g. `cairn 0.1.0 (commit 3f2a9c1d0b7e) on Node.js v24.11.1 linux/x64`. */
export function describeVersion(): string {
	const {version, commit} = readBuildInfo();
	return `cairn ${version} (commit ${commit}) on Node.js ${process.version} ${process.platform}/${process.arch}`;
}
