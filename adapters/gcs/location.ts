/**
 * Google Cloud Storage locations, as restic writes them: `gs:BUCKET:/PREFIX`. The prefix is the
 * folder inside the bucket that holds the repository; `gs:BUCKET` and `gs:BUCKET:/` name the
 * bucket's root.
 */

/** Bucket names GCS accepts: 3–63 characters (222 with dots) of lowercase letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit. */
const BUCKET_PATTERN = /^[a-z0-9](?:[a-z0-9._-]{1,220})[a-z0-9]$/;

/** Parses the part after `gs:` into `bucket` and `prefix`; throws an Error saying what is wrong. */
export function parseBucketLocation(rest: string, scheme: string): Record<string, string> {
	const text = rest.trim();
	if (text === '') return {};
	const colon = text.indexOf(':');
	const bucket = colon < 0 ? text : text.slice(0, colon);
	const prefix = colon < 0 ? '' : cleanPrefix(text.slice(colon + 1));
	if (bucket === '') throw new Error(`no bucket name before ":" (write ${scheme}:BUCKET:/PREFIX)`);
	if (bucket.includes('/')) throw new Error(`"${bucket}" is not a bucket name: write ${scheme}:BUCKET:/PREFIX, with a colon between the bucket and the folder`);
	return prefix === '' ? {bucket} : {bucket, prefix};
}

/** Writes `BUCKET:/PREFIX` back; the inverse of {@link parseBucketLocation}. */
export function formatBucketLocation(values: Readonly<Record<string, string | undefined>>): string {
	const prefix = cleanPrefix(values['prefix'] ?? '');
	return `${values['bucket'] ?? ''}:/${prefix}`;
}

/** Checks a GCS bucket name; returns an error fragment or undefined. */
export function checkGcsBucketName(name: string): string | undefined {
	if (!BUCKET_PATTERN.test(name) || name.includes('..') || (!name.includes('.') && name.length > 63)) {
		return 'must be a Google Cloud Storage bucket name: 3 to 63 lowercase letters, digits, "-", "_" or "." that start and end with a letter or digit';
	}
	if (name.startsWith('goog')) return 'cannot start with "goog" (Google reserves such names)';
	return undefined;
}

/** Removes leading, trailing and doubled slashes and `.` parts; refuses `..`. */
export function cleanPrefix(prefix: string): string {
	const parts = prefix.split('/').filter((part) => part !== '' && part !== '.');
	if (parts.includes('..')) throw new Error(`the folder "${prefix}" must not contain ".."`);
	return parts.join('/');
}

/** Joins the prefix and a key relative to the repository root. */
export function joinKey(prefix: string, key: string): string {
	return prefix === '' ? key : `${prefix}/${key}`;
}
