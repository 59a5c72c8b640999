/**
 * A parser of `multipart/related` request bodies, as used by the Google JSON APIs' multipart
 * uploads (RFC 2387): a JSON metadata part, then the media part.
 */

/** One part of a multipart body. */
export interface MultipartPart {
	/** Header names in lower case. */
	readonly headers: Record<string, string>;
	readonly body: Buffer;
}

/** Reads the boundary from a `Content-Type: multipart/related; boundary=…` header, or undefined. */
export function readBoundary(contentType: string | undefined): string | undefined {
	if (contentType === undefined || !/^multipart\/related\s*;/i.test(contentType)) return undefined;
	const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
	return match?.[1] ?? match?.[2];
}

/**
 * Splits a multipart body into its parts. Throws an Error saying what is wrong when the body
 * does not follow RFC 2046 (no opening boundary, no closing boundary, a part without a blank
 * line after its headers).
 */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
	const delimiter = Buffer.from(`--${boundary}`);
	const parts: MultipartPart[] = [];
	let position = body.indexOf(delimiter);
	if (position < 0) throw new Error('the body does not contain the boundary');
	for (;;) {
		position += delimiter.length;
		if (body.subarray(position, position + 2).toString() === '--') return parts;
		if (body.subarray(position, position + 2).toString() !== '\r\n') throw new Error('a boundary is not followed by CRLF');
		position += 2;
		const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), position);
		if (next < 0) throw new Error('the body has no closing boundary');
		const part = body.subarray(position, next);
		const split = part.indexOf('\r\n\r\n');
		if (split < 0) throw new Error('a part has no blank line after its headers');
		const headers: Record<string, string> = {};
		for (const line of part.subarray(0, split).toString('utf8').split('\r\n')) {
			if (line === '') continue;
			const colon = line.indexOf(':');
			if (colon <= 0) throw new Error(`malformed part header ${JSON.stringify(line)}`);
			headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
		}
		parts.push({headers, body: part.subarray(split + 4)});
		position = next + 2;
	}
}

/** A Google multipart upload: its JSON metadata and its media, or what is wrong with the request. */
export type MultipartUpload =
	| {readonly metadata: Record<string, unknown>; readonly media: Buffer; readonly mediaType?: string}
	| {readonly problem: 'no-boundary' | 'malformed' | 'not-json'; readonly detail: string};

/**
 * Reads the body of a Google JSON API multipart upload (`uploadType=multipart`): exactly a JSON
 * metadata part and a media part. The caller words the error answer for each problem.
 */
export function readMultipartUpload(contentType: string | undefined, body: Buffer): MultipartUpload {
	const boundary = readBoundary(contentType);
	if (boundary === undefined) return {problem: 'no-boundary', detail: 'multipart/related with a boundary is required for uploadType=multipart'};
	let parts: MultipartPart[];
	try {
		parts = parseMultipart(body, boundary);
	} catch (error) {
		return {problem: 'malformed', detail: (error as Error).message};
	}
	if (parts.length !== 2 || !/^application\/json/i.test(parts[0]!.headers['content-type'] ?? '')) {
		return {problem: 'malformed', detail: 'expected a JSON metadata part and a media part'};
	}
	try {
		const metadata = JSON.parse(parts[0]!.body.toString('utf8')) as Record<string, unknown>;
		return {metadata, media: parts[1]!.body, ...(parts[1]!.headers['content-type'] === undefined ? {} : {mediaType: parts[1]!.headers['content-type']})};
	} catch {
		return {problem: 'not-json', detail: 'the metadata part is not JSON'};
	}
}
