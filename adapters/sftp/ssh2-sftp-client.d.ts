/**
 * The parts of `ssh2-sftp-client` (which ships no types) that the SFTP adapter's built-in mode
 * uses. Its errors carry `code`: the SFTP status number from the server, or a string such as
 * `ENOENT`, `ERR_BAD_PATH` or `ERR_NOT_CONNECTED`.
 */
declare module 'ssh2-sftp-client' {
	import type {EventEmitter} from 'node:events';
	import type {Readable, Writable} from 'node:stream';

	/** What `stat` returns. */
	interface FileStats {
		readonly mode: number;
		readonly size: number;
		readonly isDirectory: boolean;
		readonly isFile: boolean;
	}

	/** One entry of `list`: `type` is `d`, `-` or `l` (the first letter of `ls -l`). */
	interface FileInfo {
		readonly type: string;
		readonly name: string;
		readonly size: number;
	}

	/** A client for one SFTP session over one SSH connection. */
	class SftpClient {
		/**
		 * `callbacks` are called on a connection event no operation handled; the defaults print to
		 * the console.
		 */
		constructor(name?: string, callbacks?: {error: (error: Error) => void; end: () => void; close: () => void});
		/** The ssh2 client underneath. */
		readonly client: EventEmitter;
		/** Connects with an ssh2 ConnectConfig (host, port, username, authHandler, hostVerifier, …). */
		connect(config: Record<string, unknown>): Promise<unknown>;
		stat(path: string): Promise<FileStats>;
		list(path: string): Promise<FileInfo[]>;
		mkdir(path: string, recursive?: boolean): Promise<string>;
		chmod(path: string, mode: number): Promise<string>;
		delete(path: string, notFoundOK?: boolean): Promise<string>;
		rename(from: string, to: string): Promise<string>;
		posixRename(from: string, to: string): Promise<string>;
		createReadStream(path: string, options?: {start?: number; end?: number; highWaterMark?: number}): Readable;
		createWriteStream(path: string, options?: {flags?: string; mode?: number; highWaterMark?: number}): Writable;
		/** Adds a listener to the underlying ssh2 client (`close`, `end`, `error`). */
		on(event: string, listener: (...args: any[]) => void): void;
		end(): Promise<boolean>;
	}

	export default SftpClient;
}
