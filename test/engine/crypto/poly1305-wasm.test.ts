import {randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {computePoly1305, computePoly1305Js} from '../../../engine/crypto/poly1305.js';
import {describeWasmKernels} from '../../../engine/wasm/load.js';

const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Poly1305 straight from the RFC 8439 definition, on BigInt. */
function referencePoly1305(key: Uint8Array, message: Uint8Array): string {
	const read = (bytes: Uint8Array): bigint => {
		let value = 0n;
		for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
		return value;
	};
	const p = (1n << 130n) - 5n;
	const r = read(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
	let accumulator = 0n;
	for (let i = 0; i < message.length; i += 16) {
		const block = message.subarray(i, Math.min(i + 16, message.length));
		accumulator = ((accumulator + read(block) + (1n << BigInt(8 * block.length))) * r) % p;
	}
	let tag = (accumulator + read(key.subarray(16, 32))) & ((1n << 128n) - 1n);
	const out = new Uint8Array(16);
	for (let i = 0; i < 16; i++, tag >>= 8n) out[i] = Number(tag & 0xffn);
	return toHex(out);
}

describe('the WebAssembly Poly1305 kernel', () => {
	it('is the one computePoly1305 uses', () => {
		expect(describeWasmKernels().poly1305).toMatch(/^wasm /);
	});

	it('agrees with the JavaScript implementation on many lengths and alignments', () => {
		const lengths = [0, 1, 15, 16, 17, 31, 32, 33, 4095, 4096, 4097, 65_519, 65_535, 65_536, 65_537, 65_552, 131_072 + 5, 300_001];
		for (let round = 0; round < 400; round++) lengths.push(Math.floor(Math.random() * 5000));
		for (const [index, length] of lengths.entries()) {
			const key = randomBytes(32);
			const backing = randomBytes(length + 7);
			const message = backing.subarray(index % 8, (index % 8) + length);
			expect(toHex(computePoly1305(key, message))).toBe(toHex(computePoly1305Js(key, message)));
		}
	});

	it('agrees with the BigInt reference at the limits: all-ones keys and messages across a copy boundary', () => {
		for (const key of [Buffer.alloc(32, 0xff), Buffer.concat([Buffer.alloc(16, 0xff), Buffer.alloc(16)]), randomBytes(32)]) {
			for (const length of [16 * 64 + 15, 65_536 + 16 * 3 + 9]) {
				const message = Buffer.alloc(length, 0xff);
				expect(toHex(computePoly1305(key, message))).toBe(referencePoly1305(key, message));
			}
		}
	});

	it('leaves no state behind: a MAC does not depend on the one computed before', () => {
		const key = randomBytes(32);
		const message = randomBytes(1000);
		const first = toHex(computePoly1305(key, message));
		computePoly1305(Buffer.alloc(32, 0xff), Buffer.alloc(70_000, 0xff));
		expect(toHex(computePoly1305(key, message))).toBe(first);
		expect(() => computePoly1305(new Uint8Array(16), message)).toThrow(RangeError);
	});
});
