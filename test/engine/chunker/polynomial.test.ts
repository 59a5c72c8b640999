import {describe, expect, it} from 'vitest';
import {
	POLYNOMIAL_DEGREE,
	degreeOf,
	formatPolynomial,
	gcdPolynomial,
	generateRandomPolynomial,
	isIrreducible,
	modPolynomial,
	mulModPolynomial,
	multiplyPolynomials,
	parsePolynomial,
} from '../../../engine/chunker/polynomial.js';

// Vectors below are values from restic/chunker's polynomials_test.go.
const RESTIC_TEST_POLYNOMIAL = 0x3da3358b4dc173n;

const irreducibility: Array<[bigint, boolean]> = [
	[0x38f1e565e288dfn, false],
	[0x3da3358b4dc173n, true],
	[0x30a8295b9d5c91n, false],
	[0x255f4350b962cbn, false],
	[0x267f776110a235n, false],
	[0x2f4dae10d41227n, false],
	[0x2482734cacca49n, true],
	[0x312daf4b284899n, false],
	[0x29dfb6553d01d1n, false],
	[0x3548245eb26257n, false],
	[0x3199e7ef4211b3n, false],
	[0x362f39017dae8bn, false],
	[0x200d57aa6fdacbn, false],
	[0x35e0a4efa1d275n, false],
	[0x2ced55b026577fn, false],
	[0x260b012010893dn, false],
	[0x2df29cbcd59e9dn, false],
	[0x3f2ac7488bd429n, false],
	[0x3e5cb1711669fbn, false],
	[0x226d8de57a9959n, false],
	[0x3c8de80aaf5835n, false],
	[0x2026a59efb219bn, false],
	[0x39dfa4d13fb231n, false],
	[0x3143d0464b3299n, false],
];

const products: Array<[bigint, bigint, bigint]> = [
	[1n, 2n, 2n],
	[0b1101n, 0b10n, 0b11010n],
	[0b1101n, 0b11n, 0b10111n],
	[0x40000000n, 0x40000000n, 0x1000000000000000n],
	[0b1010n, 0b100100n, 0b101101000n],
	[0b100n, 0b11n, 0b1100n],
	[0b11n, 0b110101n, 0b1011111n],
	[0b10011n, 0b110101n, 0b1100001111n],
];

const remainders: Array<[bigint, bigint, bigint]> = [
	[10n, 50n, 10n],
	[0n, 1n, 0n],
	[0b101101001n, 0b1010n, 0b1n],
	[2n, 2n, 0n],
	[0x8000000000000000n, 0x8000000000000000n, 0n],
	[0b1100n, 0b100n, 0n],
	[0b1100001111n, 0b10011n, 0n],
];

const gcds: Array<[bigint, bigint, bigint]> = [
	[10n, 50n, 2n],
	[0n, 1n, 1n],
	[0b101101001n, 0b1010n, 1n],
	[2n, 2n, 2n],
	[0b1010n, 0b11n, 0b11n],
	[0x8000000000000000n, 0x8000000000000000n, 0x8000000000000000n],
	[0b1100n, 0b101n, 0b11n],
	[0b1100001111n, 0b10011n, 0b10011n],
	[RESTIC_TEST_POLYNOMIAL, RESTIC_TEST_POLYNOMIAL, RESTIC_TEST_POLYNOMIAL],
	[RESTIC_TEST_POLYNOMIAL, 0x230d2259defdn, 1n],
	[0x230d2259defdn, 0x51b492b3eff2n, 0b10011n],
];

const mulMods: Array<[bigint, bigint, bigint, bigint]> = [
	[0x1230n, 0x230n, 0x55n, 0x22n],
	[0x0eae8c07dbbb3026n, 0xd5d6db9de04771den, 0xdd2bda3b77c9n, 0x425ae8595b7an],
];

/** x^(2^n) mod p; for an irreducible p of degree n this equals x. */
function frobeniusPower(p: bigint, n: number): bigint {
	let power = 2n;
	for (let i = 0; i < n; i++) {
		power = mulModPolynomial(power, power, p);
	}
	return power;
}

describe('parsePolynomial / formatPolynomial', () => {
	it('round-trips the hex form restic stores in its config', () => {
		for (const hex of ['3da3358b4dc173', '2482734cacca49', '1', 'ffffffffffffffff']) {
			expect(formatPolynomial(parsePolynomial(hex))).toBe(hex);
		}
		expect(parsePolynomial('3da3358b4dc173')).toBe(RESTIC_TEST_POLYNOMIAL);
		expect(formatPolynomial(RESTIC_TEST_POLYNOMIAL)).toBe('3da3358b4dc173');
	});

	it('accepts upper case but formats lower case', () => {
		expect(formatPolynomial(parsePolynomial('3DA3358B4DC173'))).toBe('3da3358b4dc173');
	});

	it('rejects prefixes, empty strings, non-hex and values wider than 64 bits', () => {
		for (const bad of ['', '0x3da3', 'xyz', '-1', ' 12', '1ffffffffffffffff']) {
			expect(() => parsePolynomial(bad)).toThrow(RangeError);
		}
		expect(() => formatPolynomial(-1n)).toThrow(RangeError);
		expect(() => formatPolynomial(1n << 64n)).toThrow(RangeError);
	});
});

describe('GF(2) arithmetic', () => {
	it('computes degrees', () => {
		expect(degreeOf(0n)).toBe(-1);
		expect(degreeOf(1n)).toBe(0);
		for (let i = 0; i < 64; i++) {
			expect(degreeOf(1n << BigInt(i))).toBe(i);
		}
		expect(degreeOf(0x3af4b284899n)).toBe(41);
	});

	it('multiplies', () => {
		for (const [x, y, product] of products) {
			expect(multiplyPolynomials(x, y)).toBe(product);
			expect(multiplyPolynomials(y, x)).toBe(product);
		}
	});

	it('reduces modulo a polynomial', () => {
		for (const [x, d, rest] of remainders) {
			expect(modPolynomial(x, d)).toBe(rest);
		}
		expect(() => modPolynomial(5n, 0n)).toThrow(RangeError);
	});

	it('computes greatest common divisors', () => {
		for (const [a, b, gcd] of gcds) {
			expect(gcdPolynomial(a, b)).toBe(gcd);
			expect(gcdPolynomial(b, a)).toBe(gcd);
		}
	});

	it('multiplies modulo a polynomial', () => {
		for (const [x, f, g, result] of mulMods) {
			expect(mulModPolynomial(x, f, g)).toBe(result);
		}
	});
});

describe('isIrreducible', () => {
	it('agrees with restic on its test polynomials', () => {
		for (const [p, irreducible] of irreducibility) {
			expect(isIrreducible(p), formatPolynomial(p)).toBe(irreducible);
		}
	});
});

describe('generateRandomPolynomial', () => {
	it('yields distinct irreducible polynomials of degree 53', () => {
		const seen = new Set<bigint>();
		for (let i = 0; i < 4; i++) {
			const p = generateRandomPolynomial();
			expect(degreeOf(p)).toBe(POLYNOMIAL_DEGREE);
			expect(p & 1n).toBe(1n);
			expect(isIrreducible(p)).toBe(true);
			// Independent necessary condition: x^(2^53) = x (mod p) for irreducible p of degree 53.
			expect(frobeniusPower(p, POLYNOMIAL_DEGREE)).toBe(2n);
			seen.add(p);
		}
		expect(seen.size).toBe(4);
	});
});
