/**
 * S3 locations: `s3:https://HOST[:PORT]/BUCKET[/PREFIX]` for any S3-compatible endpoint (http too),
 * `s3:BUCKET[/PREFIX]` for Amazon S3 itself, and restic's `s3:s3.amazonaws.com/BUCKET[/PREFIX]`
 * (also `s3.REGION.amazonaws.com`, or the same as an https URL), which all name Amazon S3: its
 * region comes from `s3.region` or is found by following the bucket's region redirect.
 */

/** The location values of the `s3:` scheme (all strings, as the registry wants them). */
export type S3LocationValues = {
	/** `https://host[:port]` or `http://…`; absent for Amazon S3. */
	endpoint?: string;
	bucket?: string;
	/** Folder inside the bucket, without leading or trailing slashes; absent for the bucket root. */
	prefix?: string;
};

/** Bucket names S3 accepts (3–63 characters of lowercase letters, digits, dots and hyphens; older buckets may hold upper case and underscores). */
const BUCKET_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/;

/** `s3.amazonaws.com`, `s3.eu-west-1.amazonaws.com`, `s3-eu-west-1.amazonaws.com`, `s3.dualstack.eu-west-1.amazonaws.com`. */
const AWS_HOST_PATTERN = /^s3(?:[.-](?:dualstack\.)?([a-z]{2}(?:-gov)?-[a-z]+-\d))?\.amazonaws\.com(?:\.cn)?$/;

/** Parses the part of a location after `s3:`; throws an Error saying what is wrong. */
export function parseS3Location(rest: string): S3LocationValues {
	let text = rest.trim();
	if (text === '') return {};
	if (/^https?:\/\//i.test(text)) return parseUrlLocation(text);
	if (text.startsWith('//')) text = text.slice(2);
	const [first = '', ...others] = text.split('/');
	const aws = AWS_HOST_PATTERN.exec(first.toLowerCase());
	if (aws !== null) {
		const [bucket = '', ...prefix] = others;
		if (bucket === '') throw new Error(`no bucket after ${first}: write s3:${first}/BUCKET[/PREFIX]`);
		return compact({bucket: checkBucket(bucket), prefix: cleanPrefix(prefix.join('/'))});
	}
	if (first.includes(':') || (first.includes('.') && others.length > 0 && looksLikeHost(first))) {
		throw new Error(
			`"${first}" looks like a server, not a bucket: for an S3-compatible server write the URL, e.g. s3:https://${first}/${others[0] ?? 'BUCKET'}; ` +
				'for Amazon S3 write s3:BUCKET[/PREFIX] (or s3:https://s3.amazonaws.com/BUCKET[/PREFIX] when the bucket name looks like a host)',
		);
	}
	return compact({bucket: checkBucket(first), prefix: cleanPrefix(others.join('/'))});
}

/** Writes the location back; the inverse of {@link parseS3Location}. */
export function formatS3Location(values: Readonly<Record<string, string | undefined>>): string {
	const bucket = values['bucket'] ?? '';
	const prefix = cleanPrefix(values['prefix'] ?? '');
	const path = prefix === undefined ? bucket : `${bucket}/${prefix}`;
	const endpoint = values['endpoint'];
	if (endpoint !== undefined && endpoint !== '') return `${endpoint.replace(/\/+$/, '')}/${path}`;
	// A bucket named like a host would read back as a server: name Amazon S3 explicitly.
	if (bucket.includes('.') && prefix !== undefined && looksLikeHost(bucket)) return `https://s3.amazonaws.com/${path}`;
	return path;
}

/** Joins the prefix and a key relative to the repository root. */
export function joinKey(prefix: string | undefined, key: string): string {
	return prefix === undefined || prefix === '' ? key : `${prefix}/${key}`;
}

/** Removes leading, trailing and doubled slashes and `.` parts; undefined when nothing is left. Refuses `..`. */
export function cleanPrefix(prefix: string): string | undefined {
	const parts = prefix.split('/').filter((part) => part !== '' && part !== '.');
	if (parts.includes('..')) throw new Error(`the prefix "${prefix}" must not contain ".."`);
	return parts.length === 0 ? undefined : parts.join('/');
}

/** Tells whether a host name is an Amazon S3 endpoint, and which region it names. */
export function readAwsHost(host: string): {aws: boolean; region?: string} {
	const match = AWS_HOST_PATTERN.exec(host.toLowerCase());
	return match === null ? {aws: false} : {aws: true, region: match[1]};
}

function parseUrlLocation(text: string): S3LocationValues {
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new Error(`"${text}" is not a valid URL`);
	}
	if (url.username !== '' || url.password !== '') {
		throw new Error('do not put credentials in the URL: use -o s3.access-key-id=… and -o s3.secret-access-key=… or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
	}
	if (url.search !== '' || url.hash !== '') throw new Error('the URL must not have a query (?…) or fragment (#…)');
	const [bucket = '', ...prefix] = decodeURIComponent(url.pathname).split('/').slice(1);
	if (bucket === '') throw new Error(`no bucket in the URL: write s3:${url.protocol}//${url.host}/BUCKET[/PREFIX]`);
	const aws = readAwsHost(url.hostname);
	if (aws.aws && url.protocol === 'https:' && url.port === '') {
		return compact({bucket: checkBucket(bucket), prefix: cleanPrefix(prefix.join('/'))});
	}
	return compact({endpoint: `${url.protocol}//${url.host}`, bucket: checkBucket(bucket), prefix: cleanPrefix(prefix.join('/'))});
}

function checkBucket(bucket: string): string {
	if (!BUCKET_PATTERN.test(bucket)) {
		throw new Error(`"${bucket}" is not a valid bucket name (use 3 to 63 lowercase letters, digits, dots and hyphens)`);
	}
	return bucket;
}

function looksLikeHost(word: string): boolean {
	return /^(localhost|\d{1,3}(\.\d{1,3}){3}|[a-z0-9-]+(\.[a-z0-9-]+)*\.(com|net|org|io|cloud|dev|eu|de|fr|uk|jp|cn|tech|storage))$/i.test(word);
}

function compact(values: S3LocationValues): S3LocationValues {
	const out: S3LocationValues = {};
	for (const [key, value] of Object.entries(values) as Array<[keyof S3LocationValues, string | undefined]>) {
		if (value !== undefined && value !== '') out[key] = value;
	}
	return out;
}
