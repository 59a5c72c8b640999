/**
 * The backends the app offers: every adapter registered in this build, and the backends cairn
 * plans whose adapters have not landed in this build yet. A planned backend keeps its form (so
 * people see what it will ask for) but says plainly that it is not available, instead of failing
 * late. As soon as an adapter registers its scheme, its own declaration replaces the plan.
 * No React here.
 */
import '../adapters/index.js';
import {listAdapters} from '../adapters/registry.js';
import type {AdapterDefinition, OptionDeclaration} from '../adapters/options.js';

/**
 * One backend as the wizard lists it.
 *
 * Contract: `adapter` is set exactly when the backend can be used in this build; then `scheme`,
 * `label`, `description`, `example` and `options` are the adapter's own.
 */
export interface BackendEntry {
	readonly scheme: string;
	readonly label: string;
	readonly description: string;
	readonly example: string;
	readonly options: readonly OptionDeclaration[];
	readonly adapter?: AdapterDefinition;
}

const text = (name: string, label: string, description: string, extra: Partial<OptionDeclaration> = {}): OptionDeclaration => ({name, label, description, required: false, ...extra});

/** The backends of the plan, with the fields their documentation lists (used only while no adapter has the scheme). */
export const PLANNED_BACKENDS: readonly Omit<BackendEntry, 'adapter'>[] = [
	{
		scheme: 's3', label: 'Amazon S3 and compatible', description: 'Amazon S3, MinIO, Wasabi, Ceph and other S3-compatible object stores.', example: 's3:https://s3.example.com/bucket/prefix',
		options: [
			text('bucket', 'Bucket', 'The bucket; it must exist already.', {required: true, inLocation: true, placeholder: 'my-backups'}),
			text('endpoint', 'Endpoint', 'The service URL; leave empty for AWS itself.', {kind: 'url', inLocation: true, placeholder: 'https://s3.example.com'}),
			text('access-key-id', 'Access key ID', 'The access key ID.', {env: ['AWS_ACCESS_KEY_ID']}),
			text('secret-access-key', 'Secret access key', 'The secret access key.', {secret: true, env: ['AWS_SECRET_ACCESS_KEY']}),
			text('region', 'Region', 'Overrides the region found from the endpoint.', {env: ['AWS_REGION', 'AWS_DEFAULT_REGION']}),
			text('session-token', 'Session token', 'A session token for temporary credentials.', {secret: true, env: ['AWS_SESSION_TOKEN']}),
			text('prefix', 'Prefix', 'A folder inside the bucket.', {inLocation: true}),
			text('path-style', 'Path-style', 'Address the bucket in the path rather than the host name (most self-hosted stores need this).', {kind: 'boolean'}),
		],
	},
	{
		scheme: 'azure', label: 'Azure Blob Storage', description: 'A container in an Azure storage account.', example: 'azure:container:/prefix',
		options: [
			text('container', 'Container', 'The container.', {required: true, inLocation: true}),
			text('account-name', 'Storage account', 'The storage account name.', {required: true, env: ['AZURE_ACCOUNT_NAME']}),
			text('account-key', 'Access key', 'The account access key (or give a SAS token).', {secret: true, env: ['AZURE_ACCOUNT_KEY']}),
			text('sas', 'SAS token', 'A shared access signature instead of the key.', {secret: true, env: ['AZURE_ACCOUNT_SAS']}),
			text('domain', 'Storage domain', 'For sovereign clouds, e.g. blob.core.chinacloudapi.cn.'),
			text('prefix', 'Prefix', 'A folder inside the container.', {inLocation: true}),
		],
	},
	{
		scheme: 'b2', label: 'Backblaze B2', description: 'A Backblaze B2 bucket.', example: 'b2:bucket:prefix',
		options: [
			text('bucket', 'Bucket', 'The bucket.', {required: true, inLocation: true}),
			text('key-id', 'Key ID', 'The application key ID.', {required: true, env: ['B2_ACCOUNT_ID']}),
			text('application-key', 'Application key', 'The application key.', {required: true, secret: true, env: ['B2_ACCOUNT_KEY']}),
			text('prefix', 'Prefix', 'A folder inside the bucket.', {inLocation: true}),
		],
	},
	{
		scheme: 'gs', label: 'Google Cloud Storage', description: 'A Google Cloud Storage bucket.', example: 'gs:bucket:/prefix',
		options: [
			text('bucket', 'Bucket', 'The bucket.', {required: true, inLocation: true}),
			text('credentials-file', 'Credentials file', 'A service account key file; empty uses the application-default credentials.', {kind: 'path', env: ['GOOGLE_APPLICATION_CREDENTIALS']}),
			text('prefix', 'Prefix', 'A folder inside the bucket.', {inLocation: true}),
		],
	},
	{
		scheme: 'gdrive', label: 'Google Drive', description: 'A folder in Google Drive (experimental).', example: 'gdrive:FOLDER-ID',
		options: [
			text('folder-id', 'Folder ID', 'The ID of the folder, from its address in the browser.', {required: true, inLocation: true}),
			text('credentials-file', 'Credentials file', 'A service account key file with access to the folder.', {kind: 'path', required: true}),
		],
	},
	{
		scheme: 'webdav', label: 'WebDAV', description: 'A WebDAV server such as Nextcloud.', example: 'webdav:https://host.example/remote.php/dav/files/me/backup',
		options: [
			text('url', 'URL', 'The address of the folder.', {required: true, kind: 'url', inLocation: true}),
			text('username', 'Username', 'The user name.'),
			text('password', 'Password', 'The password.', {secret: true}),
		],
	},
	{
		scheme: 'sftp', label: 'SFTP (SSH)', description: 'A directory on a computer reachable with SSH.', example: 'sftp:user@host:/srv/backup',
		options: [
			text('host', 'Host', 'The host name or address.', {required: true, inLocation: true}),
			text('port', 'Port', 'The SSH port (default 22).', {kind: 'number'}),
			text('username', 'Username', 'The user to log in as.', {inLocation: true}),
			text('key-file', 'Key file', 'The private key to log in with.', {kind: 'path'}),
			text('known-hosts', 'Known-hosts file', 'Where trusted host keys are kept (default ~/.ssh/known_hosts).', {kind: 'path'}),
			text('path', 'Path', 'The repository directory on the host.', {required: true, inLocation: true}),
			text('external', 'Use external ssh', 'Run the system ssh, so that ~/.ssh/config, agents and ProxyJump work.', {kind: 'boolean'}),
			text('ssh-command', 'SSH command', 'The ssh program (default ssh).'),
			text('ssh-args', 'SSH arguments', 'Extra arguments for ssh.'),
		],
	},
	{
		scheme: 'rclone', label: 'rclone', description: 'Any of the clouds rclone reaches, through rclone itself.', example: 'rclone:remote:path',
		options: [
			text('remote', 'Remote path', 'The rclone remote and path, e.g. mydrive:backup.', {required: true, inLocation: true}),
			text('program', 'rclone executable', 'The rclone program (default rclone).', {kind: 'path'}),
			text('args', 'Extra arguments', 'Extra arguments for rclone.'),
		],
	},
	{
		scheme: 'rest', label: 'REST server', description: "A restic REST server (rest-server).", example: 'rest:https://host.example:8000/repo',
		options: [
			text('url', 'URL', 'The address of the repository on the server.', {required: true, kind: 'url', inLocation: true}),
			text('username', 'Username', 'The user name, if the server asks for one.'),
			text('password', 'Password', 'The password, if the server asks for one.', {secret: true}),
		],
	},
];

/** Turns a registered adapter into a list entry. */
function describeAdapter(adapter: AdapterDefinition): BackendEntry {
	return {scheme: adapter.scheme, label: adapter.label, description: adapter.description, example: adapter.example, options: adapter.options, adapter};
}

/**
 * Every backend to offer: the local directory first, then the other registered adapters, then
 * the planned backends that no adapter has claimed yet (available ones before unavailable ones,
 * each group in the order of the plan, then by scheme).
 */
export function listBackends(adapters: readonly AdapterDefinition[] = listAdapters()): BackendEntry[] {
	const registered = new Map(adapters.map((adapter) => [adapter.scheme, adapter]));
	const order = ['local', ...PLANNED_BACKENDS.map((plan) => plan.scheme)];
	const rank = (scheme: string): number => (order.includes(scheme) ? order.indexOf(scheme) : order.length);
	const available = [...registered.values()]
		.sort((a, b) => rank(a.scheme) - rank(b.scheme) || a.scheme.localeCompare(b.scheme))
		.map(describeAdapter);
	const planned = PLANNED_BACKENDS.filter((plan) => !registered.has(plan.scheme));
	return [...available, ...planned];
}

/** The backend of a scheme (registered or planned), if cairn knows it. */
export function findBackend(scheme: string, adapters?: readonly AdapterDefinition[]): BackendEntry | undefined {
	return listBackends(adapters).find((entry) => entry.scheme === scheme);
}

/** The sentence shown for a backend that cannot be used in this build. */
export function describeUnavailable(entry: Pick<BackendEntry, 'label'>): string {
	return `${entry.label} is not available yet in this build: its adapter has not landed. Choose another backend.`;
}
