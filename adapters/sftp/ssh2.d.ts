/**
 * The few parts of the `ssh2` package (a dependency of ssh2-sftp-client, which ships no types)
 * that the SFTP adapter uses.
 */
declare module 'ssh2' {
	import type {EventEmitter} from 'node:events';
	import type {Duplex} from 'node:stream';

	/** A parsed public or private key. */
	interface ParsedKey {
		readonly type: string;
		readonly comment: string;
		isPrivateKey(): boolean;
		getPublicSSH(): Buffer;
	}

	/** One authentication method for `authHandler`. */
	type AuthMethod =
		| {type: 'none'; username: string}
		| {type: 'password'; username: string; password: string}
		| {type: 'publickey'; username: string; key: ParsedKey | Buffer | string; passphrase?: string}
		| {type: 'agent'; username: string; agent: string};

	interface ConnectConfig {
		host: string;
		port: number;
		username: string;
		authHandler: AuthMethod[];
		hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => void;
		algorithms?: {serverHostKey?: string[]};
		readyTimeout?: number;
		keepaliveInterval?: number;
		keepaliveCountMax?: number;
		debug?: (message: string) => void;
	}

	/** A channel: the raw byte stream of a subsystem. */
	interface ClientChannel extends Duplex {
		readonly stderr: Duplex;
	}

	/** An error of the connection; `level` says where it came from. */
	interface ClientError extends Error {
		level?: 'client-socket' | 'client-ssh' | 'client-timeout' | 'client-authentication' | 'protocol' | 'handshake' | string;
		description?: string;
		code?: string;
	}

	class Client extends EventEmitter {
		connect(config: ConnectConfig): this;
		subsys(name: string, callback: (error: Error | undefined, channel: ClientChannel) => void): this;
		end(): this;
		destroy(): this;
	}

	const ssh2: {
		Client: typeof Client;
		utils: {parseKey(data: Buffer | string, passphrase?: string): ParsedKey | ParsedKey[] | Error};
	};
	export default ssh2;
	export type {AuthMethod, ClientChannel, ClientError, ConnectConfig, ParsedKey};
	export {Client};
}
