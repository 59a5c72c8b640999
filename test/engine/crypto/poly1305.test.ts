import {randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {computePoly1305, Poly1305} from '../../../engine/crypto/poly1305.js';

const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Reads bytes as a little-endian unsigned integer. */
function readLittleEndian(bytes: Uint8Array): bigint {
	let value = 0n;
	for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
	return value;
}

/** A slow, obviously-correct Poly1305 straight from the RFC 8439 definition. */
function referencePoly1305(key: Uint8Array, message: Uint8Array): Uint8Array {
	const p = (1n << 130n) - 5n;
	const r = readLittleEndian(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
	const s = readLittleEndian(key.subarray(16, 32));
	let accumulator = 0n;
	for (let i = 0; i < message.length; i += 16) {
		const chunk = message.subarray(i, Math.min(i + 16, message.length));
		const n = readLittleEndian(chunk) + (1n << BigInt(8 * chunk.length));
		accumulator = ((accumulator + n) * r) % p;
	}
	let tag = (accumulator + s) & ((1n << 128n) - 1n);
	const out = new Uint8Array(16);
	for (let i = 0; i < 16; i++) {
		out[i] = Number(tag & 0xffn);
		tag >>= 8n;
	}
	return out;
}

const ietfText =
	'Any submission to the IETF intended by the Contributor for publication as all or part of an IETF Internet-Draft or RFC and any statement made within the context of an IETF activity is considered an "IETF Contribution". Such statements include oral statements in IETF sessions, as well as written and electronic communications made at any time or place, which are addressed to';
const jabberwocky = "'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\nAll mimsy were the borogoves,\nAnd the mome raths outgrabe.";

/** RFC 8439 Appendix A.3 test vectors #1 to #11: key r||s, message, tag. */
const appendixVectors: Array<{key: string; message: Uint8Array; tag: string}> = [
	{key: '00'.repeat(32), message: new Uint8Array(64), tag: '00'.repeat(16)},
	{key: '00'.repeat(16) + '36e5f6b5c5e06070f0efca96227a863e', message: Buffer.from(ietfText), tag: '36e5f6b5c5e06070f0efca96227a863e'},
	{key: '36e5f6b5c5e06070f0efca96227a863e' + '00'.repeat(16), message: Buffer.from(ietfText), tag: 'f3477e7cd95417af89a6b8794c310cf0'},
	{key: '1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0', message: Buffer.from(jabberwocky), tag: '4541669a7eaaee61e708dc7cbcc5eb62'},
	{key: '02' + '00'.repeat(31), message: fromHex('ff'.repeat(16)), tag: '03' + '00'.repeat(15)},
	{key: '02' + '00'.repeat(15) + 'ff'.repeat(16), message: fromHex('02' + '00'.repeat(15)), tag: '03' + '00'.repeat(15)},
	{key: '01' + '00'.repeat(31), message: fromHex('ff'.repeat(16) + 'f0' + 'ff'.repeat(15) + '11' + '00'.repeat(15)), tag: '05' + '00'.repeat(15)},
	{key: '01' + '00'.repeat(31), message: fromHex('ff'.repeat(16) + 'fb' + 'fe'.repeat(15) + '01'.repeat(16)), tag: '00'.repeat(16)},
	{key: '02' + '00'.repeat(31), message: fromHex('fd' + 'ff'.repeat(15)), tag: 'fa' + 'ff'.repeat(15)},
	{
		key: '0100000000000000040000000000000000000000000000000000000000000000',
		message: fromHex('e33594d7505e43b900000000000000003394d7505e4379cd01000000000000000000000000000000000000000000000001000000000000000000000000000000'),
		tag: '14000000000000005500000000000000',
	},
	{
		key: '0100000000000000040000000000000000000000000000000000000000000000',
		message: fromHex('e33594d7505e43b900000000000000003394d7505e4379cd010000000000000000000000000000000000000000000000'),
		tag: '13000000000000000000000000000000',
	},
];

describe('computePoly1305', () => {
	it('matches the RFC 8439 section 2.5.2 example', () => {
		const key = fromHex('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b');
		const tag = computePoly1305(key, Buffer.from('Cryptographic Forum Research Group'));
		expect(toHex(tag)).toBe('a8061dc1305136c6c22b8baf0c0127a9');
	});

	it.each(appendixVectors.map((vector, index) => ({...vector, number: index + 1})))('matches RFC 8439 appendix A.3 vector #$number', ({key, message, tag}) => {
		expect(toHex(computePoly1305(fromHex(key), message))).toBe(tag);
	});

	it('agrees with a BigInt reference on random keys and lengths, aligned and unaligned', () => {
		for (let round = 0; round < 300; round++) {
			const key = randomBytes(32);
			const length = round < 70 ? round : Math.floor(Math.random() * 3000);
			const backing = randomBytes(length + 3);
			const shift = round % 4;
			const message = new Uint8Array(backing.buffer, backing.byteOffset + shift, length);
			expect(toHex(computePoly1305(key, message))).toBe(toHex(referencePoly1305(key, message)));
		}
	});

	it('agrees with the reference when every limb is at its maximum', () => {
		const keys = [fromHex('ff'.repeat(32)), fromHex('ff'.repeat(16) + '00'.repeat(16))];
		const message = fromHex('ff'.repeat(16 * 64 + 15));
		for (const key of keys) expect(toHex(computePoly1305(key, message))).toBe(toHex(referencePoly1305(key, message)));
	});

	it('gives the same tag when the message is fed in uneven pieces', () => {
		const key = randomBytes(32);
		const message = randomBytes(5000);
		const mac = new Poly1305(key);
		let offset = 0;
		for (const size of [1, 15, 16, 17, 0, 33, 100, 7]) {
			mac.update(message.subarray(offset, offset + size));
			offset += size;
		}
		mac.update(message.subarray(offset));
		expect(toHex(mac.digest())).toBe(toHex(computePoly1305(key, message)));
	});

	it('rejects keys of the wrong size and use after digest', () => {
		expect(() => computePoly1305(new Uint8Array(31), new Uint8Array(1))).toThrow(RangeError);
		const mac = new Poly1305(new Uint8Array(32));
		mac.digest();
		expect(() => mac.update(new Uint8Array(1))).toThrow(/after digest/);
		expect(() => mac.digest()).toThrow(/twice/);
	});
});
