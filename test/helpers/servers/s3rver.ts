/**
 * s3rver (an S3 emulator from npm) on a free loopback port with a temporary directory, for the S3
 * adapter's conformance and round-trip tests. Its one account is S3RVER / S3RVER.
 */
import {mkdtemp, rm} from 'node:fs/promises';
import {createRequire} from 'node:module';
import type {Server} from 'node:http';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

/** The credentials s3rver accepts. */
export const S3RVER_CREDENTIALS = {accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER'} as const;

/** The part of s3rver's API used here. */
interface S3rverInstance {
	run(): Promise<{port: number; address: string}>;
	close(): Promise<void>;
	httpServer?: Server;
}

type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

/** A running s3rver. */
export interface RunningS3rver {
	/** `http://127.0.0.1:PORT` */
	readonly endpoint: string;
	readonly port: number;
	/** Where s3rver keeps buckets and objects. */
	readonly directory: string;
	/** Stops the server and removes its directory. */
	close(): Promise<void>;
}

/** Starts s3rver on 127.0.0.1 with the given buckets already created. */
export async function startS3rver(buckets: readonly string[] = ['cairn']): Promise<RunningS3rver> {
	const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;
	const directory = await mkdtemp(join(tmpdir(), 'cairn-s3rver-'));
	const server = new S3rver({
		address: '127.0.0.1',
		port: 0,
		silent: true,
		directory,
		configureBuckets: buckets.map((name) => ({name})),
	});
	const {port} = await server.run();
	return {
		endpoint: `http://127.0.0.1:${port}`,
		port,
		directory,
		close: async () => {
			server.httpServer?.closeAllConnections?.();
			await server.close();
			await rm(directory, {recursive: true, force: true});
		},
	};
}
