/**
 * The repository config file: version, repository ID and chunker polynomial.
 */

/** The decrypted `config` file. */
export interface RepositoryConfig {
	version: number;
	id: string;
	chunker_polynomial: string;
}

/** Repository format versions cairn reads and writes. */
export const SUPPORTED_VERSIONS = [1, 2] as const;

/** Checks a decoded config; throws a message naming what is wrong. */
export function validateConfig(value: unknown): RepositoryConfig {
	const config = value as RepositoryConfig;
	if (!config || typeof config !== 'object') throw new Error('config is not a JSON object');
	if (!SUPPORTED_VERSIONS.includes(config.version as 1 | 2)) {
		throw new Error(`repository format version ${String(config.version)} is not supported: cairn reads versions 1 and 2; upgrade cairn to open this repository`);
	}
	if (typeof config.chunker_polynomial !== 'string' || !/^[0-9a-f]+$/.test(config.chunker_polynomial)) {
		throw new Error('config has no valid chunker_polynomial');
	}
	if (typeof config.id !== 'string') throw new Error('config has no repository id');
	return config;
}
