/**
 * A real OpenStack Swift (Debian's packages, 2.30) on loopback for the Swift adapter's tests:
 * memcached, the account, container and object servers and a proxy with tempauth, each on a free
 * port of 127.0.0.1, with their configuration, rings, one device directory and logs in a temporary
 * directory. v1 authentication answers at `/auth/v1.0` for the users in {@link SWIFT_USERS}.
 *
 * The servers read this helper's own `swift.conf` (two storage policies, `gold` as the default and
 * `silver`), not /etc/swift: a small Python launcher points Swift's configuration path at it
 * before it starts the server. The rings are built with Swift's RingBuilder (the library behind
 * `swift-ring-builder`) in one Python process: one replica, one device on a directory.
 */

import {spawn, type ChildProcess} from 'node:child_process';
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {createConnection} from 'node:net';
import {tmpdir, userInfo} from 'node:os';
import {join} from 'node:path';
import {createHash} from 'node:crypto';

import {findFreePort, requireBinary, runProgram, signalProcess, waitForExit, waitForPort} from './processes.js';

const PYTHON = '/usr/bin/python3';
const MEMCACHED = '/usr/bin/memcached';
const PROXY = '/usr/bin/swift-proxy-server';

/** tempauth users: `account:user` → key. The `test` account is the one most tests use. */
export const SWIFT_USERS = {
	'test:tester': 'testing',
	'test2:tester2': 'testing2',
} as const;

/** The storage policies of the test cluster; the first is the default. */
export const SWIFT_POLICIES = ['gold', 'silver'] as const;

/** A running Swift cluster. */
export interface RunningSwift {
	/** `http://127.0.0.1:PORT/auth/v1.0` (ST_AUTH). */
	readonly authUrl: string;
	/** `http://127.0.0.1:PORT` of the proxy. */
	readonly proxyUrl: string;
	/** Temporary directory with configuration, rings, the device and logs. */
	readonly directory: string;
	/** v1 authentication: the storage URL and a token for `account:user`. */
	authenticate(user?: keyof typeof SWIFT_USERS): Promise<{storageUrl: string; token: string}>;
	/** Makes a tempauth token invalid at once (deletes it from memcached), as if it had expired. */
	revokeToken(token: string): Promise<void>;
	/** Stops the proxy only (to test an unreachable service); {@link startProxy} brings it back on the same port. */
	stopProxy(): Promise<void>;
	startProxy(): Promise<void>;
	/** Everything the servers logged so far. */
	readLogs(): Promise<string>;
	/** Stops every process this helper started and removes the temporary directory. */
	stop(): Promise<void>;
}

/** The Python launcher: reads the given swift.conf instead of /etc/swift/swift.conf, then runs a server. */
const LAUNCHER = `import sys
from swift.common import utils
utils.SWIFT_CONF_FILE = sys.argv[1]
from swift.common import storage_policy, constraints
storage_policy.reload_storage_policies()
constraints.reload_constraints()
from swift.common.wsgi import run_wsgi
sys.exit(run_wsgi(sys.argv[3], sys.argv[2], verbose=True))
`;

/** Builds one single-device, one-replica ring per `name:port` argument. */
const RING_BUILDER = `import sys
from swift.common.ring import RingBuilder
directory = sys.argv[1]
for spec in sys.argv[2:]:
    name, port = spec.split(':')
    builder = RingBuilder(6, 1, 0)
    builder.add_dev({'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': int(port), 'device': 'd1', 'weight': 1})
    builder.rebalance()
    builder.save('%s/%s.builder' % (directory, name))
    builder.get_ring().save('%s/%s.ring.gz' % (directory, name))
`;

type ServerName = 'account-server' | 'container-server' | 'object-server' | 'proxy-server';

/** Starts memcached and the Swift servers; throws with the servers' logs when one does not come up. */
export async function startSwift(): Promise<RunningSwift> {
	await requireBinary(PROXY, 'install OpenStack Swift (apt install swift swift-proxy swift-account swift-container swift-object memcached)');
	await requireBinary(MEMCACHED, 'install memcached (apt install memcached)');
	const directory = await mkdtemp(join(tmpdir(), 'cairn-swift-'));
	const devices = join(directory, 'devices');
	await mkdir(join(devices, 'd1'), {recursive: true});
	const ports = {
		memcached: await findFreePort(),
		'account-server': await findFreePort(),
		'container-server': await findFreePort(),
		'object-server': await findFreePort(),
		'proxy-server': await findFreePort(),
	};
	const user = userInfo().username;
	const swiftConf = join(directory, 'swift.conf');
	await writeFile(
		swiftConf,
		[
			'[swift-hash]',
			`swift_hash_path_suffix = ${createHash('sha256').update(directory).digest('hex').slice(0, 16)}`,
			'swift_hash_path_prefix = cairn-test',
			...SWIFT_POLICIES.flatMap((name, index) => [`[storage-policy:${index}]`, `name = ${name}`, ...(index === 0 ? ['default = yes'] : [])]),
			'',
		].join('\n'),
	);
	const common = (name: ServerName): string[] => [
		'[DEFAULT]',
		'bind_ip = 127.0.0.1',
		`bind_port = ${ports[name]}`,
		'workers = 0',
		`user = ${user}`,
		`swift_dir = ${directory}`,
		`devices = ${devices}`,
		'mount_check = false',
		'log_level = INFO',
		`log_name = ${name}`,
		'',
	];
	const backend = (name: 'account-server' | 'container-server' | 'object-server', section: string): string =>
		[...common(name), '[pipeline:main]', `pipeline = ${section}`, '', `[app:${section}]`, `use = egg:swift#${section.replace('-server', '')}`, ''].join('\n');
	await writeFile(join(directory, 'account-server.conf'), backend('account-server', 'account-server'));
	await writeFile(join(directory, 'container-server.conf'), backend('container-server', 'container-server'));
	await writeFile(join(directory, 'object-server.conf'), backend('object-server', 'object-server'));
	await writeFile(
		join(directory, 'proxy-server.conf'),
		[
			...common('proxy-server'),
			'[pipeline:main]',
			'pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk slo dlo tempauth copy proxy-logging proxy-server',
			'',
			'[app:proxy-server]',
			'use = egg:swift#proxy',
			'account_autocreate = true',
			'',
			'[filter:tempauth]',
			'use = egg:swift#tempauth',
			...Object.entries(SWIFT_USERS).map(([name, key]) => `user_${name.replace(':', '_')} = ${key} .admin`),
			'',
			'[filter:cache]',
			'use = egg:swift#memcache',
			`memcache_servers = 127.0.0.1:${ports.memcached}`,
			'',
			...['catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging', 'listing_formats', 'bulk', 'slo', 'dlo', 'copy'].flatMap((name) => [`[filter:${name}]`, `use = egg:swift#${name.replace('-', '_')}`, '']),
		].join('\n'),
	);
	await writeFile(join(directory, 'launch.py'), LAUNCHER);
	await writeFile(join(directory, 'rings.py'), RING_BUILDER);

	const children = new Map<string, ChildProcess>();
	const readLogs = async (): Promise<string> => {
		const parts: string[] = [];
		for (const name of ['memcached', 'account-server', 'container-server', 'object-server', 'proxy-server']) {
			parts.push(`--- ${name} ---\n${(await readFile(join(directory, `${name}.log`), 'utf8').catch(() => '(no log)')).slice(-4000)}`);
		}
		return parts.join('\n');
	};
	const launch = async (name: string, program: string, args: string[]): Promise<void> => {
		const log = join(directory, `${name}.log`);
		const {openSync, closeSync} = await import('node:fs');
		const fd = openSync(log, 'a');
		const child = spawn(program, args, {stdio: ['ignore', fd, fd], cwd: directory});
		closeSync(fd);
		children.set(name, child);
		await waitForPort(ports[name as keyof typeof ports], child, readLogs, 120_000);
	};
	const launchServer = (name: ServerName) => launch(name, PYTHON, [join(directory, 'launch.py'), swiftConf, name, join(directory, `${name}.conf`)]);

	const stop = async (): Promise<void> => {
		for (const child of children.values()) {
			if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) signalProcess(child.pid, 'SIGTERM');
		}
		await Promise.all(
			[...children.values()].map(async (child) => {
				const timer = setTimeout(() => child.pid !== undefined && signalProcess(child.pid, 'SIGKILL'), 5000);
				await waitForExit(child);
				clearTimeout(timer);
			}),
		);
		children.clear();
		await rm(directory, {recursive: true, force: true});
	};

	const proxyUrl = `http://127.0.0.1:${ports['proxy-server']}`;
	const authUrl = `${proxyUrl}/auth/v1.0`;
	const authenticate = async (name: keyof typeof SWIFT_USERS = 'test:tester'): Promise<{storageUrl: string; token: string}> => {
		const response = await fetch(authUrl, {headers: {'x-auth-user': name, 'x-auth-key': SWIFT_USERS[name]}});
		await response.arrayBuffer();
		const storageUrl = response.headers.get('x-storage-url');
		const token = response.headers.get('x-auth-token');
		if (response.status !== 200 || storageUrl === null || token === null) throw new Error(`Swift v1 authentication as ${name} answered ${response.status}`);
		return {storageUrl, token};
	};

	try {
		await runProgram(PYTHON, [join(directory, 'rings.py'), directory, `account:${ports['account-server']}`, `container:${ports['container-server']}`, `object:${ports['object-server']}`, `object-1:${ports['object-server']}`]);
		await launch('memcached', MEMCACHED, ['-l', '127.0.0.1', '-p', String(ports.memcached), '-U', '0', '-u', user, '-m', '16']);
		await Promise.all((['account-server', 'container-server', 'object-server', 'proxy-server'] as const).map(launchServer));
		// Ready when a token works for a request that reaches every server (a loaded machine may need a few tries).
		for (let attempt = 1; ; attempt++) {
			const {storageUrl, token} = await authenticate();
			const probe = await fetch(`${storageUrl}/cairn-probe`, {method: 'PUT', headers: {'x-auth-token': token}});
			await probe.arrayBuffer();
			if (probe.status < 300) break;
			if (probe.status !== 503 || attempt >= 5) throw new Error(`creating a container answered ${probe.status}`);
			await new Promise((resolve) => setTimeout(resolve, 500));
		}
		const {storageUrl, token} = await authenticate();
		const removed = await fetch(`${storageUrl}/cairn-probe`, {method: 'DELETE', headers: {'x-auth-token': token}});
		await removed.arrayBuffer();
	} catch (error) {
		const logs = await readLogs();
		await stop();
		throw new Error(`OpenStack Swift did not start: ${error instanceof Error ? error.message : String(error)}\n${logs}`);
	}

	return {
		authUrl,
		proxyUrl,
		directory,
		authenticate,
		revokeToken: (token) => deleteMemcachedKey(ports.memcached, createHash('md5').update(`AUTH_/token/${token}`).digest('hex')),
		stopProxy: async () => {
			const child = children.get('proxy-server');
			if (child?.pid !== undefined) signalProcess(child.pid, 'SIGTERM');
			if (child !== undefined) await waitForExit(child);
			children.delete('proxy-server');
		},
		startProxy: () => launchServer('proxy-server'),
		readLogs,
		stop,
	};
}

/** Sends `delete KEY` to memcached's text protocol (Swift's memcache client stores keys as their MD5). */
function deleteMemcachedKey(port: number, key: string): Promise<void> {
	return new Promise((resolve, reject) => {
		const socket = createConnection({host: '127.0.0.1', port});
		let answer = '';
		socket.setEncoding('utf8');
		socket.on('data', (text: string) => {
			answer += text;
			if (answer.endsWith('\r\n')) {
				socket.end();
				if (/^(DELETED|NOT_FOUND)/.test(answer)) resolve();
				else reject(new Error(`memcached answered ${answer.trim()}`));
			}
		});
		socket.once('error', reject);
		socket.write(`delete ${key}\r\n`);
	});
}
