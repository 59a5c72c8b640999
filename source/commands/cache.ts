import * as path from 'node:path';
import {findCacheDirectory, isCacheDirectoryOld, listCacheDirectories, measureDirectory, removeOldCacheDirectories, DEFAULT_CACHE_MAX_AGE_DAYS} from '../../engine/repository/cache.js';
import {formatResticBytes} from '../../engine/format/go-values.js';
import {CairnError, UsageError} from '../../engine/errors.js';
import type {GlobalFlags} from '../cli/context.js';

/** Flags of `cairn cache`. */
export interface CacheFlags extends GlobalFlags {
	cleanup?: boolean;
	maxAge?: string;
	/** False with --no-size. */
	size?: boolean;
}

/** `cairn cache [--cleanup]`: lists the cache's repository directories, or removes old ones. */
export async function runCache(args: string[], flags: CacheFlags): Promise<number> {
	if (args.length > 0) throw new UsageError('the cache command expects no arguments, only options - please see `cairn help cache` for usage and flags');
	if (flags.cache === false) throw new CairnError('Refusing to do anything, the cache is disabled');
	const maxAge = flags.maxAge === undefined ? DEFAULT_CACHE_MAX_AGE_DAYS : Number(flags.maxAge);
	if (!Number.isInteger(maxAge) || maxAge < 0) throw new UsageError(`invalid --max-age ${JSON.stringify(flags.maxAge)}: give a whole number of days`);
	const base = findCacheDirectory({cacheDir: flags.cacheDir});
	if (base === undefined) throw new CairnError('no cache directory could be determined: set --cache-dir or CAIRN_CACHE_DIR');
	if (flags.cleanup) {
		const {removed, failed} = await removeOldCacheDirectories(base, maxAge);
		for (const {name, error} of failed) process.stderr.write(`unable to remove ${path.join(base, name)}: ${error.message}\n`);
		if (!flags.quiet) process.stdout.write(removed.length + failed.length === 0 ? 'no old cache dirs found\n' : `remove ${removed.length + failed.length} old cache directories\n`);
		return failed.length ? 1 : 0;
	}
	const dirs = await listCacheDirectories(base);
	if (dirs.length === 0) {
		process.stdout.write(`no cache dirs found, basedir is ${base}\n`);
		return 0;
	}
	const withSize = flags.size !== false;
	const header = ['Repo ID', 'Last Used', 'Old', ...(withSize ? ['Size'] : [])];
	const rows: string[][] = [];
	for (const dir of dirs) {
		const row = [dir.name.slice(0, 10), `${Math.floor((Date.now() - dir.lastUsedMs) / 86_400_000)} days ago`, isCacheDirectoryOld(dir.lastUsedMs, maxAge) ? 'yes' : ''];
		if (withSize) row.push(formatResticBytes(await measureDirectory(path.join(base, dir.name))).padStart(11));
		rows.push(row);
	}
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
	const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
	const rule = '-'.repeat(widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1));
	process.stdout.write([line(header), rule, ...rows.map(line), rule, `${dirs.length} cache dirs in ${base}`].join('\n') + '\n');
	return 0;
}
