/**
 * Credentials inside server URLs (`https://USER:PASS@host/path`): split out of a location so the
 * password can be kept as a secret option, and put back when a location is written.
 */

/** A URL without its user and password, and those two (decoded) when present. */
export interface SplitUrl {
	readonly url: string;
	readonly username?: string;
	readonly password?: string;
}

/**
 * Takes the user and password out of an http(s) URL. Throws an Error whose message says what is
 * wrong when `text` is not an http or https URL with a host.
 */
export function splitUrlCredentials(text: string): SplitUrl {
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new Error(`"${text.replace(/\/\/[^/@]*@/, '//***@')}" is not a URL; write http://HOST:PORT/PATH or https://HOST/PATH`);
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`the URL must start with http:// or https://, not ${url.protocol}//`);
	if (url.host === '') throw new Error('the URL has no host');
	const username = url.username === '' ? undefined : decodeURIComponent(url.username);
	const password = url.password === '' ? undefined : decodeURIComponent(url.password);
	url.username = '';
	url.password = '';
	return {url: url.toString(), ...(username === undefined ? {} : {username}), ...(password === undefined ? {} : {password})};
}

/** Puts a user (and password) into a URL; the inverse of {@link splitUrlCredentials}. */
export function joinUrlCredentials(text: string, username?: string, password?: string): string {
	if (!username && !password) return text;
	const url = new URL(text);
	url.username = encodeURIComponent(username ?? '');
	if (password) url.password = encodeURIComponent(password);
	return url.toString();
}

/** The URL with a trailing slash on its path (a directory), as REST and WebDAV bases need. */
export function ensureTrailingSlash(text: string): string {
	const url = new URL(text);
	if (!url.pathname.endsWith('/')) url.pathname += '/';
	return url.toString();
}
