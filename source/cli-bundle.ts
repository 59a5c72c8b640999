/**
 * Finding the bundle of the command line (scripts/bundle-cli.mjs) that cli.tsx loads instead of
 * the compiled modules.
 */
import {statSync} from 'node:fs';

/**
 * The bundle of cli-main.ts and what it loads (see scripts/bundle-cli.mjs), when it exists and is
 * not older than the compiled module it was made from; never inside the single executable (one
 * bundle already), nor when CAIRN_NO_BUNDLE=1.
 */
export function findCliBundle(base: string | URL = import.meta.url, env: NodeJS.ProcessEnv = process.env): string | undefined {
	if (env.CAIRN_NO_BUNDLE === '1') return undefined;
	try {
		const bundle = new URL('./cli-main.bundle.js', base);
		if (bundle.protocol !== 'file:') return undefined;
		return statSync(bundle).mtimeMs >= statSync(new URL('./cli-main.js', base)).mtimeMs ? bundle.href : undefined;
	} catch {
		return undefined;
	}
}
