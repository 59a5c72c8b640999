#!/usr/bin/env node
/**
 * Compiles the hand-written WebAssembly kernels (engine/wasm/*.wat) with the wabt npm package
 * (a JavaScript/WebAssembly build of WABT, so no system toolchain is needed). Writes each module
 * to build/wasm/<name>.wasm, where the kernels are found from any output directory and from the
 * TypeScript sources, and to dist/engine/wasm/<name>.wasm so that dist/ is complete on its own.
 * Prints nothing on success; exits non-zero if a module does not compile. engine/wasm/load.ts
 * also runs it when a compiled kernel is missing or older than its source.
 */
import {mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import initWabt from 'wabt';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(root, 'engine', 'wasm');
const targets = [join(root, 'build', 'wasm'), join(root, 'dist', 'engine', 'wasm')];

const wabt = await initWabt();
for (const file of readdirSync(sourceDir).filter((name) => name.endsWith('.wat')).sort()) {
	const module = wabt.parseWat(file, readFileSync(join(sourceDir, file), 'utf8'));
	try {
		module.validate();
		const {buffer} = module.toBinary({});
		for (const dir of targets) {
			// Write and rename, so that a process loading the kernel never reads half a file.
			mkdirSync(dir, {recursive: true});
			const target = join(dir, file.replace(/\.wat$/, '.wasm'));
			writeFileSync(`${target}.${process.pid}.tmp`, buffer);
			renameSync(`${target}.${process.pid}.tmp`, target);
		}
	} finally {
		module.destroy();
	}
}
