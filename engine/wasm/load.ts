/**
 * The WebAssembly kernels of this package (engine/wasm/*.wat), loaded once per thread, on
 * first use, synchronously.
 *
 * `npm run build` compiles the .wat files to build/wasm/*.wasm and dist/engine/wasm/*.wasm
 * (scripts/build-wasm.mjs). This module looks next to itself first (a dist/ tree, or a copy of
 * one) and then in build/wasm/ of the package it belongs to, which serves both compiled output
 * in any directory and the TypeScript sources. When neither has the file, or it is older than
 * its .wat source (a checkout running its tests before a build, or after an edit of a kernel),
 * it runs that build script first. A kernel that cannot be had is reported as missing; its
 * callers then use their JavaScript implementation. Setting CAIRN_WASM=off forces that.
 * Inside the single-file executable the kernels are its assets, and no file is looked for.
 */
import {execFileSync} from 'node:child_process';
import {existsSync, readFileSync, statSync} from 'node:fs';
import {dirname, join, relative} from 'node:path';
import {fileURLToPath} from 'node:url';
import {isStandalone, readEmbedded} from '../util/embedded.js';

/**
 * The parts of the WebAssembly JavaScript API used here. The global is there in every Node
 * version this package supports, but this project's TypeScript libraries do not declare it.
 */
interface WasmApi {
	Module: new (bytes: Uint8Array) => WasmModule;
	Instance: new (module: WasmModule, imports: object) => WasmInstance;
}
/** A compiled module. */
type WasmModule = object;
/** An instance: its exported functions and memories (the latter as {buffer: ArrayBuffer}). */
export interface WasmInstance {
	readonly exports: Record<string, unknown>;
}
/** An exported memory. */
export interface WasmMemory {
	readonly buffer: ArrayBuffer;
}

const wasm = (globalThis as unknown as {WebAssembly?: WasmApi}).WebAssembly;

/** The kernels there are; each is engine/wasm/<name>.wat. */
export type KernelName = 'chunker' | 'poly1305';

const KERNEL_NAMES: readonly KernelName[] = ['chunker', 'poly1305'];

/** How one kernel was obtained: `module` is set when it can be used, `origin` says from where or why not. */
interface KernelSource {
	module?: WasmModule;
	origin: string;
}

const here = dirname(fileURLToPath(import.meta.url));

/** The nearest directory at or above this module's that holds a package.json. */
function findPackageRoot(): string | undefined {
	for (let dir = here; ; dir = dirname(dir)) {
		if (existsSync(join(dir, 'package.json'))) return dir;
		if (dirname(dir) === dir) return undefined;
	}
}

const root = isStandalone() ? undefined : findPackageRoot();

/** Describes a path for humans, relative to the package when it lies inside. */
function showPath(path: string): string {
	return root !== undefined && !relative(root, path).startsWith('..') ? relative(root, path) : path;
}

function findFile(candidates: Array<string | undefined>): string | undefined {
	return candidates.find((path): path is string => path !== undefined && existsSync(path));
}

function compileModule(bytes: Uint8Array, origin: string): KernelSource {
	if (wasm === undefined) return {origin: 'this runtime has no WebAssembly'};
	try {
		return {module: new wasm.Module(bytes), origin};
	} catch (error) {
		return {origin: `${origin} did not compile: ${(error as Error).message}`};
	}
}

/** Runs scripts/build-wasm.mjs of this package, if it has one; returns whether it succeeded. */
function runBuildScript(): boolean {
	const script = root && join(root, 'scripts', 'build-wasm.mjs');
	if (script === undefined || !existsSync(script)) return false;
	try {
		execFileSync(process.execPath, [script], {stdio: 'pipe', timeout: 60_000});
		return true;
	} catch {
		return false;
	}
}

let buildAttempted = false;

/**
 * Finds and compiles one kernel. A missing or outdated compiled file is rebuilt first, once per
 * thread, where the package has its build script (which needs the wabt development dependency).
 */
function loadKernel(name: KernelName): KernelSource {
	if (process.env.CAIRN_WASM === 'off') return {origin: 'disabled by CAIRN_WASM=off'};
	const embedded = readEmbedded(`wasm/${name}.wasm`);
	if (embedded !== undefined) return compileModule(embedded, 'embedded in the executable');
	if (isStandalone()) return {origin: `${name}.wasm is not embedded in this executable`};
	const findCompiled = (): string | undefined => findFile([join(here, `${name}.wasm`), root && join(root, 'build', 'wasm', `${name}.wasm`)]);
	const source = findFile([join(here, `${name}.wat`), root && join(root, 'engine', 'wasm', `${name}.wat`)]);
	const isCurrent = (compiled: string | undefined): compiled is string => compiled !== undefined && (source === undefined || statSync(source).mtimeMs <= statSync(compiled).mtimeMs);
	let compiled = findCompiled();
	let note = '';
	if (!isCurrent(compiled) && source !== undefined && !buildAttempted) {
		buildAttempted = true;
		if (runBuildScript()) {
			compiled = findCompiled();
			note = ', built at load time';
		}
	}
	if (compiled === undefined) return {origin: `no ${name}.wasm found (npm run build makes it)`};
	if (!isCurrent(compiled)) note = `, older than ${showPath(source!)}`;
	return compileModule(readFileSync(compiled), `${showPath(compiled)}${note}`);
}

const kernelSources = new Map<KernelName, KernelSource>();
const instances = new Map<KernelName, WasmInstance | null>();

/**
 * Returns this thread's instance of a kernel, creating it on first use, or undefined when the
 * kernel is not available (see {@link describeWasmKernels} for why). Every call for the same
 * name in a thread returns the same instance and memory: each kernel has one owner module
 * (engine/wasm/<name>-kernel.ts).
 */
export function getKernelInstance(name: KernelName): WasmInstance | undefined {
	let instance = instances.get(name);
	if (instance === undefined) {
		const source = loadKernel(name);
		kernelSources.set(name, source);
		instance = null;
		if (source.module !== undefined && wasm !== undefined) {
			try {
				instance = new wasm.Instance(source.module, {});
			} catch (error) {
				kernelSources.set(name, {origin: `${source.origin} did not instantiate: ${(error as Error).message}`});
			}
		}
		instances.set(name, instance);
	}
	return instance ?? undefined;
}

/**
 * For each kernel, which implementation this thread uses and where it came from, e.g.
 * `wasm (build/wasm/chunker.wasm)` or `js (disabled by CAIRN_WASM=off)`.
 */
export function describeWasmKernels(): Record<KernelName, string> {
	const described = {} as Record<KernelName, string>;
	for (const name of KERNEL_NAMES) {
		const available = getKernelInstance(name) !== undefined;
		described[name] = `${available ? 'wasm' : 'js'} (${kernelSources.get(name)!.origin})`;
	}
	return described;
}
