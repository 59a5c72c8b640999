/**
 * Resources built into the single-file executable (scripts/package.mjs): the worker threads'
 * code, the WebAssembly kernels and the build's version information, stored as assets of a
 * Node single executable application (SEA). Outside such an executable nothing is embedded, and
 * callers load the same things from the files of the package as usual.
 */

/** The parts of `node:sea` used here (Node >= 20.12; the module is missing in older versions). */
interface SeaApi {
	isSea(): boolean;
	getRawAsset(key: string): ArrayBuffer;
}

let sea: SeaApi | null | undefined;

function loadSea(): SeaApi | null {
	if (sea === undefined) {
		try {
			const load = (process as unknown as {getBuiltinModule?: (name: string) => unknown}).getBuiltinModule;
			const module = load?.('node:sea') as SeaApi | undefined;
			sea = module !== undefined && module.isSea() ? module : null;
		} catch {
			sea = null;
		}
	}
	return sea;
}

/** Whether this process (or thread) runs inside cairn's single-file executable. */
export function isStandalone(): boolean {
	return loadSea() !== null;
}

/**
 * The bytes of an embedded resource, or undefined outside the executable or when it has no such
 * resource. Names are paths like `wasm/chunker.wasm` or `workers/chunk-worker.js`. The returned
 * view may share memory with the executable's image: copy it before changing it.
 */
export function readEmbedded(name: string): Uint8Array | undefined {
	const api = loadSea();
	if (api === null) return undefined;
	try {
		return new Uint8Array(api.getRawAsset(name));
	} catch {
		return undefined;
	}
}

/** An embedded resource as UTF-8 text; see {@link readEmbedded}. */
export function readEmbeddedText(name: string): string | undefined {
	const bytes = readEmbedded(name);
	return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
}
