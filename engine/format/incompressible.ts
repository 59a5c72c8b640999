/**
 * A cheap test for chunks that zstd cannot shrink (already compressed or encrypted data: media,
 * archives, VM images' random regions). Such chunks are stored uncompressed, which restic's
 * format allows (a blob with no uncompressed length), instead of spending a compression pass on
 * them only to throw the result away.
 *
 * The test estimates the order-0 (byte frequency) entropy of evenly spread samples of the chunk.
 * Data whose bytes are near-uniformly distributed cannot be made noticeably smaller by entropy
 * coding; it could still hold long repeats that zstd's match finder would find, so the threshold
 * is kept close to 8 bits per byte, where real compressible data (text, code, executables,
 * zero-filled regions) is far below it.
 */

/** Samples taken from a chunk. */
const SAMPLES = 32;
/** Bytes per sample. */
const SAMPLE_BYTES = 1024;
/**
 * Entropy (bits per byte) above which a chunk counts as incompressible. Uniform random bytes
 * measure about 7.99 over 32 KiB of samples; gzip-compressed files about 7.97.
 */
export const INCOMPRESSIBLE_BITS_PER_BYTE = 7.95;
/** Chunks shorter than this are always compressed (sampling would see most of them anyway). */
const MIN_LENGTH = 64 * 1024;

const counts = new Uint32Array(256);

/** Estimates the order-0 entropy of `data` from evenly spread samples, in bits per byte. */
export function estimateEntropy(data: Uint8Array): number {
	counts.fill(0);
	let total = 0;
	if (data.length <= SAMPLES * SAMPLE_BYTES) {
		for (let i = 0; i < data.length; i++) counts[data[i]!]!++;
		total = data.length;
	} else {
		const stride = Math.floor((data.length - SAMPLE_BYTES) / (SAMPLES - 1));
		for (let s = 0; s < SAMPLES; s++) {
			const start = s * stride;
			for (let i = start; i < start + SAMPLE_BYTES; i++) counts[data[i]!]!++;
		}
		total = SAMPLES * SAMPLE_BYTES;
	}
	if (total === 0) return 0;
	let sum = 0;
	for (let b = 0; b < 256; b++) {
		const c = counts[b]!;
		if (c > 0) sum += c * Math.log2(c);
	}
	return Math.log2(total) - sum / total;
}

/** Tells whether a chunk is not worth compressing. */
export function looksIncompressible(data: Uint8Array): boolean {
	return data.length >= MIN_LENGTH && estimateEntropy(data) > INCOMPRESSIBLE_BITS_PER_BYTE;
}
