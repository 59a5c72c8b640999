/**
 * The wizard against a real SSH server (OpenSSH sshd on a loopback port): an unknown host key is
 * shown with its fingerprint, trusted with t and recorded, then a new repository is created.
 */
import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
// The app registers the adapters only once its screens have loaded; this test checks for SFTP first.
import '../../adapters/index.js';
import {findAdapter} from '../../adapters/registry.js';
import {openProfileStore} from '../../components/profiles.js';
import {startSshServer, type SshServer} from '../helpers/servers/sshd.js';
import {createTestEnvironment, KEYS, press, renderApp, waitForFrame, type RenderedApp, type TestEnvironment} from './harness.js';

let server: SshServer | undefined;
let environment: TestEnvironment | undefined;
let app: RenderedApp | undefined;
beforeAll(async () => {
	server = await startSshServer();
}, 60_000);
afterEach(async () => {
	app?.cleanup();
	app = undefined;
	await environment?.dispose();
	environment = undefined;
});
afterAll(async () => {
	await server?.stop();
});

describe('add-repository wizard over SFTP', () => {
	it('shows an unknown host key\'s fingerprint, trusts it with t, and creates the repository', async () => {
		expect(findAdapter('sftp')).toBeDefined();
		environment = await createTestEnvironment();
		const knownHosts = join(environment.root, 'known_hosts');
		await writeFile(knownHosts, '');
		const repoPath = join(server!.data, 'tui-repo');
		app = renderApp(environment);
		await waitForFrame(app.lastFrame, 'Create a repository elsewhere');
		await press(app.stdin, '3', KEYS.enter);
		await waitForFrame(app.lastFrame, 'step 1 of 5');
		for (let i = 0; i < 20 && !/^ › SFTP/m.test(app.lastFrame() ?? ''); i++) {
			const before = app.lastFrame();
			await press(app.stdin, KEYS.down);
			await waitForFrame(app.lastFrame, (frame) => frame !== before);
		}
		await press(app.stdin, KEYS.enter);
		const form = await waitForFrame(app.lastFrame, 'step 2 of 5');
		for (const label of ['Host', 'Path', 'User', 'Port', 'Key file', 'Known hosts file', 'Use the system ssh']) expect(form).toContain(label);
		// Host, then Enter goes to the next required field (the path); the others with ↓.
		await press(app.stdin, server!.host, KEYS.enter, repoPath, KEYS.down, server!.user, KEYS.down, String(server!.port), KEYS.down, server!.userKey, KEYS.down, KEYS.down, KEYS.down, knownHosts);
		await waitForFrame(app.lastFrame, knownHosts);
		await press(app.stdin, KEYS.enter);
		const unknown = await waitForFrame(app.lastFrame, 't: trust this host key', 60_000);
		expect(unknown.replace(/\s+/g, '')).toContain(server!.hostFingerprint);
		expect(await readFile(knownHosts, 'utf8')).toBe('');
		await press(app.stdin, 't');
		await waitForFrame(app.lastFrame, 'step 4 of 5', 60_000);
		expect(await readFile(knownHosts, 'utf8')).toContain(server!.hostPublicKey.split(' ')[1]!);
		await press(app.stdin, KEYS.enter, 'pw', KEYS.enter, 'pw', KEYS.enter);
		await waitForFrame(app.lastFrame, 'step 5 of 5');
		await press(app.stdin, KEYS.ctrlU, 'nas', KEYS.enter);
		await waitForFrame(app.lastFrame, 'nas › Snapshots', 60_000);
		await waitForFrame(app.lastFrame, 'No snapshots yet');
		const [profile] = openProfileStore(environment.env).listProfiles();
		expect(profile!.name).toBe('nas');
		expect(profile!.location).toMatch(/^sftp:/);
		expect(profile!.options).toMatchObject({'key-file': server!.userKey, 'known-hosts': knownHosts});
	}, 120_000);
});
