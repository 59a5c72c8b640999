/**
 * Polynomial arithmetic over GF(2) for the content-defined chunker.
 *
 * A polynomial is a non-negative bigint whose bit i is the coefficient of x^i. BigInt is fine
 * here: these functions only run when chunker tables are built or a repository is created.
 */

import {randomBytes} from 'node:crypto';

/** Degree of the polynomials restic generates (the largest prime below 64 - 8). */
export const POLYNOMIAL_DEGREE = 53;

const MAX_GENERATION_TRIES = 1_000_000;
const UINT64_MAX = (1n << 64n) - 1n;

/**
 * Parses the `chunker_polynomial` field of a restic config: hexadecimal digits without a
 * `0x` prefix, at most 64 bits. Throws a RangeError for anything else.
 */
export function parsePolynomial(hex: string): bigint {
	if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) {
		throw new RangeError(`invalid chunker polynomial ${JSON.stringify(hex)}: expected up to 16 hex digits`);
	}
	return BigInt('0x' + hex);
}

/** Formats a polynomial the way restic writes `chunker_polynomial`: lowercase hex, no prefix. */
export function formatPolynomial(p: bigint): string {
	assertUint64(p);
	return p.toString(16);
}

/** Degree of p, or -1 for the zero polynomial. */
export function degreeOf(p: bigint): number {
	if (p < 0n) {
		throw new RangeError('polynomials are non-negative bigints');
	}
	return p === 0n ? -1 : p.toString(2).length - 1;
}

/** Remainder of x divided by d in GF(2)[X]. Throws on division by zero. */
export function modPolynomial(x: bigint, d: bigint): bigint {
	if (d === 0n) {
		throw new RangeError('polynomial division by zero');
	}
	const dDeg = degreeOf(d);
	let rest = x;
	let rDeg = degreeOf(rest);
	while (rDeg >= dDeg) {
		rest ^= d << BigInt(rDeg - dDeg);
		rDeg = degreeOf(rest);
	}
	return rest;
}

/** Carry-less product x * y in GF(2)[X] (unbounded, no overflow). */
export function multiplyPolynomials(x: bigint, y: bigint): bigint {
	let product = 0n;
	let shifted = x;
	for (let rest = y; rest > 0n; rest >>= 1n) {
		if ((rest & 1n) === 1n) {
			product ^= shifted;
		}
		shifted <<= 1n;
	}
	return product;
}

/** x * f mod g in GF(2)[X]. */
export function mulModPolynomial(x: bigint, f: bigint, g: bigint): bigint {
	return modPolynomial(multiplyPolynomials(x, f), g);
}

/** Greatest common divisor of a and b in GF(2)[X]. */
export function gcdPolynomial(a: bigint, b: bigint): bigint {
	let x = a;
	let y = b;
	while (y !== 0n) {
		const r = modPolynomial(x, y);
		x = y;
		y = r;
	}
	return x;
}

/**
 * Ben-Or's irreducibility test, as restic applies it: p is reported irreducible when
 * gcd(p, x^(2^i) - x mod p) = 1 for every i from 1 to deg(p)/2.
 */
export function isIrreducible(p: bigint): boolean {
	const half = Math.floor(degreeOf(p) / 2);
	// power holds x^(2^i) mod p; it starts at x and is squared once per round.
	let power = 2n;
	for (let i = 1; i <= half; i++) {
		power = mulModPolynomial(power, power, p);
		if (gcdPolynomial(p, modPolynomial(power ^ 2n, p)) !== 1n) {
			return false;
		}
	}
	return true;
}

/**
 * Draws a uniformly random irreducible polynomial of degree 53 from the system CSPRNG, the same
 * way restic does for `init`: 8 random bytes (little-endian), keep bits 0..53, force bits 53
 * and 0, retry until irreducible. Throws if none is found in a million tries.
 */
export function generateRandomPolynomial(): bigint {
	const mask = (1n << BigInt(POLYNOMIAL_DEGREE + 1)) - 1n;
	const forced = (1n << BigInt(POLYNOMIAL_DEGREE)) | 1n;
	for (let i = 0; i < MAX_GENERATION_TRIES; i++) {
		const candidate = (randomBytes(8).readBigUInt64LE(0) & mask) | forced;
		if (isIrreducible(candidate)) {
			return candidate;
		}
	}
	throw new Error('unable to find a random irreducible polynomial');
}

function assertUint64(p: bigint): void {
	if (p < 0n || p > UINT64_MAX) {
		throw new RangeError('chunker polynomials are 64-bit unsigned values');
	}
}
