/**
 * azurite (Microsoft's Azure Storage emulator, from npm) on a free loopback port with a temporary
 * workspace, for the Azure adapter's tests. Its account `devstoreaccount1` and key are public
 * (they are printed in Microsoft's documentation).
 */
import {spawn, type ChildProcess} from 'node:child_process';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

import {BlobServiceClient, StorageSharedKeyCredential} from '@azure/storage-blob';

/** azurite's well-known development account. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
/** azurite's well-known development key (public; not a secret). */
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
const BINARY = join(ROOT, 'node_modules/.bin/azurite-blob');

/** A running azurite. */
export interface RunningAzurite {
	/** `http://127.0.0.1:PORT/devstoreaccount1` */
	readonly endpoint: string;
	/** A client with the development key, for setting up and inspecting containers. */
	readonly client: BlobServiceClient;
	createContainer(name: string): Promise<void>;
	/** Stops azurite (the process this helper started) and removes its workspace. */
	close(): Promise<void>;
}

/** Starts azurite's blob service on 127.0.0.1 (port chosen by the system). */
export async function startAzurite(): Promise<RunningAzurite> {
	const workspace = await mkdtemp(join(tmpdir(), 'cairn-azurite-'));
	const child: ChildProcess = spawn(
		process.execPath,
		[BINARY, '--blobHost', '127.0.0.1', '--blobPort', '0', '--location', workspace, '--disableTelemetry', '--skipApiVersionCheck', '--silent'],
		{stdio: ['ignore', 'pipe', 'pipe']},
	);
	const port = await new Promise<number>((done, fail) => {
		let output = '';
		const timer = setTimeout(() => fail(new Error(`azurite did not start within 30 s:\n${output}`)), 30_000);
		const onData = (chunk: Buffer): void => {
			output += chunk.toString('utf8');
			const match = /listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
			if (match !== null) {
				clearTimeout(timer);
				done(Number(match[1]));
			}
		};
		child.stdout!.on('data', onData);
		child.stderr!.on('data', onData);
		child.once('exit', (code) => {
			clearTimeout(timer);
			fail(new Error(`azurite exited with code ${code} before it listened:\n${output}`));
		});
	});
	const endpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
	const client = new BlobServiceClient(endpoint, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY), {retryOptions: {maxTries: 1}});
	return {
		endpoint,
		client,
		createContainer: async (name) => {
			await client.getContainerClient(name).create();
		},
		close: async () => {
			if (child.exitCode === null) {
				const exited = new Promise((done) => child.once('exit', done));
				child.kill('SIGTERM');
				await exited;
			}
			await rm(workspace, {recursive: true, force: true});
		},
	};
}
