/**
 * One-shot Poly1305 in WebAssembly (engine/wasm/poly1305.wat). The message is copied into the
 * kernel's memory 64 KiB at a time; the copy costs little next to the MAC itself.
 */
import {getKernelInstance, type WasmMemory} from './load.js';

const KEY_OFFSET = 0;
const TAG_OFFSET = 32;
const DATA_OFFSET = 64;
const DATA_CAPACITY = 64 * 1024;
const BLOCK = 16;

interface Poly1305Exports {
	memory: WasmMemory;
	init(): void;
	blocks(ptr: number, end: number, hibit: number): void;
	finish(): void;
}

/** Computes a Poly1305 tag; the key must be 32 bytes (checked by the caller). */
export type Poly1305Function = (key32: Uint8Array, message: Uint8Array) => Uint8Array;

function createWasmPoly1305(exports: Poly1305Exports): Poly1305Function {
	// The module never grows its memory, so this view stays valid.
	const memory = new Uint8Array(exports.memory.buffer);
	const {init, blocks, finish} = exports;
	return (key32, message) => {
		memory.set(key32, KEY_OFFSET);
		init();
		const full = message.length - (message.length % BLOCK);
		for (let offset = 0; offset < full; ) {
			const length = Math.min(DATA_CAPACITY, full - offset);
			memory.set(message.subarray(offset, offset + length), DATA_OFFSET);
			blocks(DATA_OFFSET, DATA_OFFSET + length, 1);
			offset += length;
		}
		const rest = message.length - full;
		if (rest > 0) {
			memory.set(message.subarray(full), DATA_OFFSET);
			memory[DATA_OFFSET + rest] = 1;
			memory.fill(0, DATA_OFFSET + rest + 1, DATA_OFFSET + BLOCK);
			blocks(DATA_OFFSET, DATA_OFFSET + BLOCK, 0);
		}
		finish();
		const tag = memory.slice(TAG_OFFSET, TAG_OFFSET + 16);
		memory.fill(0, TAG_OFFSET, TAG_OFFSET + 16);
		return tag;
	};
}

let poly1305: Poly1305Function | null | undefined;

/** This thread's WebAssembly Poly1305, or undefined when the kernel is not available. */
export function getWasmPoly1305(): Poly1305Function | undefined {
	if (poly1305 === undefined) {
		const instance = getKernelInstance('poly1305');
		poly1305 = instance === undefined ? null : createWasmPoly1305(instance.exports as unknown as Poly1305Exports);
	}
	return poly1305 ?? undefined;
}
