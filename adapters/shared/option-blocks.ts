/**
 * Option declarations that several adapters share (see adapters/options.ts for the machinery):
 * the bucket or container, the folder inside it, an endpoint, a credentials file, the number of
 * connections, a secret, and the URL-with-user-and-password block of URL-based stores (`rest:`,
 * `webdav:`). Each helper returns a plain {@link OptionDeclaration}, so an adapter's option list
 * stays a readable array and only the words that differ are written in the adapter.
 */

import {homedir} from 'node:os';

import {readNumberOption, type AdapterDefinition, type OptionDeclaration, type OptionValues} from '../options.js';
import {PermanentError} from '../storage.js';
import {ensureTrailingSlash, joinUrlCredentials, splitUrlCredentials} from '../http/url.js';

/** A `validate` that accepts whole numbers from `min` to `max`. */
export function checkWholeNumber(min: number, max: number, unit = ''): (value: string) => string | undefined {
	return (value) => (Number.isInteger(Number(value)) && Number(value) >= min && Number(value) <= max ? undefined : `must be a whole number${unit === '' ? '' : ` of ${unit}`} from ${min} to ${max}`);
}

/**
 * `connections`: how many requests run at once. `defaultCount` is named in the description;
 * with `withDefault` it is also the declared default (otherwise the adapter applies it).
 */
export function declareConnectionsOption(settings: {defaultCount: number; max: number; note?: string; withDefault?: boolean}): OptionDeclaration {
	return {
		name: 'connections',
		label: 'Connections',
		description: `How many requests to run at once (default ${settings.defaultCount})${settings.note === undefined ? '' : `; ${settings.note}`}.`,
		required: false,
		kind: 'number',
		...(settings.withDefault === true ? {default: String(settings.defaultCount)} : {}),
		validate: checkWholeNumber(1, settings.max),
	};
}

/** The bucket or container that holds the repository; part of the location. */
export function declareContainerOption(settings: {name?: string; label?: string; description: string; placeholder: string; validate?: (value: string) => string | undefined}): OptionDeclaration {
	return {
		name: settings.name ?? 'bucket',
		label: settings.label ?? 'Bucket',
		description: settings.description,
		required: true,
		inLocation: true,
		placeholder: settings.placeholder,
		...(settings.validate === undefined ? {} : {validate: settings.validate}),
	};
}

/**
 * `prefix`: the folder inside the bucket or container; part of the location, optional. With
 * `clean`, a value `clean` refuses is refused with its message (minus the quoted value).
 */
export function declarePrefixOption(settings: {label?: string; container?: string; placeholder: string; clean?: (value: string) => string}): OptionDeclaration {
	const clean = settings.clean;
	const container = settings.container ?? 'bucket';
	return {
		name: 'prefix',
		label: settings.label ?? 'Folder',
		description: `Folder inside the ${container} that holds the repository; empty for the ${container} root.`,
		required: false,
		inLocation: true,
		placeholder: settings.placeholder,
		...(clean === undefined
			? {}
			: {
					validate: (value: string) => {
						try {
							clean(value);
							return undefined;
						} catch (error) {
							return (error as Error).message.replace(/^the folder "[^"]*" /, '');
						}
					},
				}),
	};
}

/**
 * The bucket (or container) and the folder in it, of a store written `<scheme>:BUCKET:/FOLDER`
 * (gs, b2; Swift's containers too). Defaults fit a bucket: give `name`, `label`, `noun` and the
 * words for a container. `clean` normalises the folder (see {@link declarePrefixOption}).
 */
export function declareBucketFolderOptions(settings: {
	name?: string;
	label?: string;
	noun?: string;
	description?: string;
	placeholder?: string;
	validate?: (value: string) => string | undefined;
	clean: (value: string) => string;
}): OptionDeclaration[] {
	const noun = settings.noun ?? 'bucket';
	return [
		declareContainerOption({
			...(settings.name === undefined ? {} : {name: settings.name}),
			...(settings.label === undefined ? {} : {label: settings.label}),
			description: settings.description ?? `Name of an existing ${noun} (cairn does not create ${noun}s).`,
			placeholder: settings.placeholder ?? `my-${noun}`,
			...(settings.validate === undefined ? {} : {validate: settings.validate}),
		}),
		declarePrefixOption({container: noun, placeholder: 'backups/laptop', clean: settings.clean}),
	];
}

/** `endpoint`: another service URL (an emulator, a private endpoint, a test server). */
export function declareEndpointOption(settings: {description: string; placeholder: string; inLocation?: boolean}): OptionDeclaration {
	return {
		name: 'endpoint',
		label: 'Endpoint',
		description: settings.description,
		required: false,
		kind: 'url',
		...(settings.inLocation === true ? {inLocation: true} : {}),
		placeholder: settings.placeholder,
	};
}

/** An optional value from a fixed list (a select widget in forms), with its default when it has one. */
export function declareChoiceOption(settings: {name: string; label: string; description: string; choices: readonly string[]; default?: string}): OptionDeclaration {
	return {
		name: settings.name,
		label: settings.label,
		description: settings.description,
		required: false,
		choices: settings.choices,
		...(settings.default === undefined ? {} : {default: settings.default}),
	};
}

/** A secret value (a key, a password, a token), masked everywhere, read from `env` when not given. */
export function declareSecretOption(settings: {name: string; label: string; description: string; env: readonly string[]; required?: boolean}): OptionDeclaration {
	return {name: settings.name, label: settings.label, description: settings.description, required: settings.required ?? false, secret: true, env: settings.env};
}

/** `credentials-file`: a Google credentials (service-account key) file, from GOOGLE_APPLICATION_CREDENTIALS when not given. */
export function declareCredentialsFileOption(settings: {label: string; description: string; required: boolean}): OptionDeclaration {
	return {
		name: 'credentials-file',
		label: settings.label,
		description: settings.description,
		required: settings.required,
		kind: 'path',
		env: ['GOOGLE_APPLICATION_CREDENTIALS'],
		placeholder: '~/keys/backup-sa.json',
	};
}

/** A resolved value that must be there (and not empty); otherwise throws a {@link PermanentError} saying `missing`. */
export function requireValue(values: OptionValues, name: string, missing: string): string {
	const value = values[name];
	if (value === undefined || value === '') throw new PermanentError(missing);
	return value;
}

/** Throws a {@link PermanentError} when only one of two values that go together is given, with the message for the one missing. */
export function requireBoth(first: string | undefined, second: string | undefined, missing: {readonly first: string; readonly second: string}): void {
	if ((first === undefined) !== (second === undefined)) throw new PermanentError(first === undefined ? missing.first : missing.second);
}

/** Replaces a leading `~/` with the home directory (values from profiles are not expanded by a shell). */
export function expandHome(path: string): string {
	if (path === '~' || path.startsWith('~/')) return `${homedir()}${path.slice(1)}`;
	return path;
}

/** The words that differ between URL-based stores, for {@link declareUrlLoginOptions}. */
export interface UrlLoginWords {
	readonly url: {readonly label: string; readonly description: string; readonly placeholder: string};
	readonly username: {readonly description: string; readonly env: readonly string[]};
	readonly password: {readonly description: string; readonly env: readonly string[]};
}

/** `url`, `username` and `password` of a store reached at `http[s]://[USER:PASS@]HOST/PATH`. */
export function declareUrlLoginOptions(words: UrlLoginWords): OptionDeclaration[] {
	return [
		{name: 'url', label: words.url.label, description: words.url.description, required: true, kind: 'url', inLocation: true, placeholder: words.url.placeholder},
		{name: 'username', label: 'User', description: words.username.description, required: false, inLocation: true, env: words.username.env},
		declareSecretOption({name: 'password', label: 'Password', description: words.password.description, env: words.password.env}),
	];
}

/**
 * Parses `http[s]://[USER[:PASS]@]HOST/PATH`. A password written in the URL (restic's syntax) is
 * taken out as the `password` value; it is not a location option, so it is never written back.
 */
export function parseUrlLocation(rest: string): Record<string, string> {
	if (rest === '') return {};
	const split = splitUrlCredentials(rest);
	return {url: ensureTrailingSlash(split.url), ...(split.username === undefined ? {} : {username: split.username}), ...(split.password === undefined ? {} : {password: split.password})};
}

/** Writes the URL with its user, never the password (a location may be saved, and secrets are not). */
export function formatUrlLocation(values: OptionValues): string {
	return values['url'] ? joinUrlCredentials(values['url'], values['username']) : '';
}

/** The base URL (with a trailing slash) and the login of resolved values; an option wins over the URL's own user and password. */
export function readUrlLogin(url: string, values: OptionValues): {base: string; username?: string; password?: string} {
	const split = splitUrlCredentials(url);
	const username = values['username'] || split.username;
	const password = values['password'] || split.password;
	return {base: ensureTrailingSlash(split.url), ...(username ? {username} : {}), ...(password ? {password} : {})};
}

/** Requests at once of URL-based stores unless `connections` says otherwise. */
const URL_STORE_CONNECTIONS = 5;

/**
 * The options and location syntax of a store at `http[s]://[USER[:PASS]@]HOST/PATH` (rest,
 * webdav): `url`, `username`, `password` and `connections`; spread it into the definition.
 */
export function declareUrlStore(words: UrlLoginWords): Pick<AdapterDefinition, 'options' | 'parseLocation' | 'formatLocation'> {
	return {
		options: [...declareUrlLoginOptions(words), declareConnectionsOption({defaultCount: URL_STORE_CONNECTIONS, max: 64, withDefault: true})],
		parseLocation: parseUrlLocation,
		formatLocation: formatUrlLocation,
	};
}

/** The resolved values of a {@link declareUrlStore} store; without a URL, throws a PermanentError saying `missing`. */
export function readUrlStore(values: OptionValues, missing: string): {base: string; username?: string; password?: string; connections: number} {
	const url = values['url'];
	if (url === undefined || url === '') throw new PermanentError(missing);
	return {...readUrlLogin(url, values), connections: readNumberOption(values, 'connections') ?? URL_STORE_CONNECTIONS};
}
