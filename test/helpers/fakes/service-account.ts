/**
 * Service-account keys for the fake Google servers: a key file in Google's JSON format with a
 * freshly generated RSA key, and the check of the self-signed JWTs that Google's auth library
 * sends with it (https://google.aip.dev/auth/4111: `iss` and `sub` are the account's e-mail,
 * `scope` names the OAuth scopes, signed RS256 with the key named by `kid`).
 */
import {createPublicKey, createVerify, generateKeyPairSync, randomBytes, type KeyObject} from 'node:crypto';
import {writeFile} from 'node:fs/promises';

/** A generated service account. */
export interface FakeServiceAccount {
	readonly email: string;
	readonly keyId: string;
	readonly projectId: string;
	readonly publicKey: KeyObject;
	/** The key file's JSON, as Google's console downloads it. */
	readonly keyJson: Record<string, string>;
}

/** Makes a service account with a new 2048-bit RSA key. */
export function makeServiceAccount(name = 'cairn-test', projectId = 'cairn-test-project'): FakeServiceAccount {
	const {privateKey, publicKey} = generateKeyPairSync('rsa', {modulusLength: 2048});
	const email = `${name}@${projectId}.iam.gserviceaccount.com`;
	const keyId = randomBytes(20).toString('hex');
	const keyJson = {
		type: 'service_account',
		project_id: projectId,
		private_key_id: keyId,
		private_key: privateKey.export({type: 'pkcs8', format: 'pem'}).toString(),
		client_email: email,
		client_id: String(100_000_000_000_000_000_000n + BigInt(randomBytes(4).readUInt32BE())),
		auth_uri: 'https://accounts.google.com/o/oauth2/auth',
		token_uri: 'https://oauth2.googleapis.com/token',
		auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
		client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(email)}`,
		universe_domain: 'googleapis.com',
	};
	return {email, keyId, projectId, publicKey: createPublicKey(publicKey.export({type: 'spki', format: 'pem'})), keyJson};
}

/** Writes the account's key file (mode 0600) and returns its path. */
export async function writeKeyFile(account: FakeServiceAccount, path: string): Promise<string> {
	await writeFile(path, JSON.stringify(account.keyJson, null, 2), {mode: 0o600});
	return path;
}

/** Why a bearer token was refused, or the account it names. */
export type TokenCheck = {ok: true; account: FakeServiceAccount; scopes: string[]} | {ok: false; reason: string};

/**
 * Checks an `Authorization` header holding a self-signed JWT: RS256, a known key ID, a valid
 * signature, `iss` = `sub` = the account's e-mail, an unexpired `exp`, and at least one of
 * `acceptedScopes` in `scope`.
 */
export function checkBearerToken(header: string | undefined, accounts: readonly FakeServiceAccount[], acceptedScopes: readonly string[]): TokenCheck {
	if (header === undefined) return {ok: false, reason: 'no Authorization header'};
	const match = /^Bearer (\S+)$/.exec(header);
	if (match === null) return {ok: false, reason: 'the Authorization header is not a Bearer token'};
	const pieces = match[1]!.split('.');
	if (pieces.length !== 3) return {ok: false, reason: 'the token is not a JWT'};
	let head: {alg?: string; kid?: string; typ?: string};
	let claims: {iss?: string; sub?: string; scope?: string; aud?: string; exp?: number; iat?: number};
	try {
		head = JSON.parse(Buffer.from(pieces[0]!, 'base64url').toString('utf8')) as typeof head;
		claims = JSON.parse(Buffer.from(pieces[1]!, 'base64url').toString('utf8')) as typeof claims;
	} catch {
		return {ok: false, reason: 'the token is not valid JSON'};
	}
	if (head.alg !== 'RS256') return {ok: false, reason: `unsupported algorithm ${String(head.alg)}`};
	const account = accounts.find((candidate) => candidate.keyId === head.kid);
	if (account === undefined) return {ok: false, reason: 'unknown key ID'};
	const verifier = createVerify('RSA-SHA256');
	verifier.update(`${pieces[0]}.${pieces[1]}`);
	if (!verifier.verify(account.publicKey, Buffer.from(pieces[2]!, 'base64url'))) return {ok: false, reason: 'bad signature'};
	if (claims.iss !== account.email || claims.sub !== account.email) return {ok: false, reason: 'iss/sub do not name the key\'s account'};
	const now = Date.now() / 1000;
	if (typeof claims.exp !== 'number' || claims.exp < now) return {ok: false, reason: 'the token has expired'};
	if (typeof claims.iat === 'number' && claims.iat > now + 300) return {ok: false, reason: 'the token was issued in the future'};
	const scopes = (claims.scope ?? '').split(/\s+/).filter((scope) => scope !== '');
	if (!scopes.some((scope) => acceptedScopes.includes(scope))) return {ok: false, reason: `no accepted scope in "${claims.scope ?? ''}"`};
	return {ok: true, account, scopes};
}
