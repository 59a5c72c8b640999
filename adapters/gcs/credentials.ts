/**
 * Reading a Google credentials file (a service-account key, or the `authorized_user` file that
 * `gcloud auth application-default login` writes) before handing it to Google's auth library, so
 * that a wrong path or a damaged file gets a clear message that never quotes the file's content.
 * Shared by the GCS and Google Drive adapters.
 */

import {readFile} from 'node:fs/promises';

import {AuthError} from '../storage.js';

/** The parsed JSON of a credentials file; Google's auth library takes it as is. */
export type GoogleCredentials = Record<string, unknown> & {type: string};

const KNOWN_TYPES = ['service_account', 'authorized_user', 'external_account', 'impersonated_service_account', 'external_account_authorized_user'];

/**
 * Reads and checks a credentials file. `optionName` (e.g. `gs.credentials-file`) is named in
 * messages. Rejects with {@link AuthError} when the file cannot be read, is not JSON, or is not a
 * credentials file; the messages never contain the file's content.
 */
export async function readGoogleCredentials(path: string, optionName: string): Promise<GoogleCredentials> {
	let text: string;
	try {
		text = await readFile(path, 'utf8');
	} catch (error) {
		const code = (error as {code?: unknown}).code;
		const why = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : String(code ?? 'unreadable');
		throw new AuthError(`cannot read the Google credentials file ${path} (${why}): check ${optionName} or GOOGLE_APPLICATION_CREDENTIALS`, {cause: error});
	}
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch {
		// The parser's message quotes the text, which may hold a private key: leave it out.
		throw new AuthError(`the Google credentials file ${path} is not valid JSON: download the key again (Google Cloud console → IAM → Service accounts → Keys → Add key → JSON)`);
	}
	const record = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
	const type = record['type'];
	if (typeof type !== 'string' || !KNOWN_TYPES.includes(type)) {
		throw new AuthError(`the file ${path} is not a Google credentials file (its "type" is ${JSON.stringify(typeof type === 'string' ? type : null)}; expected "service_account"): give the JSON key of a service account in ${optionName}`);
	}
	if (type === 'service_account' && (typeof record['client_email'] !== 'string' || typeof record['private_key'] !== 'string')) {
		throw new AuthError(`the service-account key ${path} lacks "client_email" or "private_key": download a new JSON key for the service account`);
	}
	return record as GoogleCredentials;
}

/** The service account's e-mail, when the credentials are a service-account key. */
export function readClientEmail(credentials: GoogleCredentials): string | undefined {
	return typeof credentials['client_email'] === 'string' ? credentials['client_email'] : undefined;
}
