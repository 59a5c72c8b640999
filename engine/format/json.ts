/**
 * JSON encoding that matches Go's encoding/json for the values restic stores, so that
 * identical trees encode to identical bytes: `<`, `>`, `&`, U+2028 and U+2029 are escaped.
 */

const GO_ESCAPES = /[<>&\u2028\u2029]/g;

function escapeForGo(char: string): string {
	return '\\u' + char.charCodeAt(0).toString(16).padStart(4, '0');
}

/** JSON.stringify followed by Go's HTML-safe escaping (safe because those characters only occur inside strings). */
export function stringifyGoJson(value: unknown): string {
	return JSON.stringify(value).replace(GO_ESCAPES, escapeForGo);
}

/** Parses JSON bytes, naming `what` in the error. */
export function parseJsonBytes<T>(bytes: Uint8Array, what: string): T {
	try {
		return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as T;
	} catch (error) {
		throw new Error(`${what} is not valid JSON: ${(error as Error).message}`, {cause: error});
	}
}
