/**
 * The `s3:` scheme's declaration for the registry (CLI `-o s3.*`, TUI forms, saved profiles).
 * The AWS SDK is loaded only when a repository is opened.
 */

import {readBooleanOption, readNumberOption, type AdapterDefinition, type OptionValues} from '../options.js';
import {PermanentError} from '../storage.js';
import {checkWholeNumber, declareChoiceOption, declareConnectionsOption, declareContainerOption, declareEndpointOption, declarePrefixOption, declareSecretOption, requireBoth, requireValue} from '../shared/option-blocks.js';
import type {ChecksumPolicy} from './client.js';
import {formatS3Location, parseS3Location} from './location.js';
import {checkRetentionPeriod, parseRetentionPeriod, RETENTION_MODES, type RetentionMode} from './retention.js';
import {S3_STORAGE_CLASSES, S3_THAW_TIERS, type S3ThawTier} from './classes.js';
import type {S3StorageOptions} from './storage.js';

/** The declaration of the `s3:` scheme for the adapter registry. */
export const s3Adapter: AdapterDefinition = {
	scheme: 's3',
	label: 'Amazon S3 or S3-compatible',
	description: 'A prefix in an existing bucket on Amazon S3 or an S3-compatible service (MinIO, Ceph, Wasabi, Backblaze B2, Cloudflare R2, ...).',
	example: 's3:https://s3.example.com/bucket/backups',
	options: [
		declareEndpointOption({description: 'URL of an S3-compatible service, e.g. https://minio.example.com:9000; leave empty for Amazon S3.', placeholder: 'https://s3.example.com', inLocation: true}),
		declareContainerOption({description: 'Name of the bucket, which must already exist (cairn does not create buckets).', placeholder: 'my-backups'}),
		declarePrefixOption({label: 'Prefix', placeholder: 'laptop'}),
		{
			name: 'region',
			label: 'Region',
			description: 'Region of the bucket, e.g. eu-west-1. For Amazon S3 cairn follows the bucket\'s region redirect when it is not given; other services default to us-east-1.',
			required: false,
			env: ['AWS_REGION', 'AWS_DEFAULT_REGION'],
			placeholder: 'us-east-1',
		},
		{
			name: 'path-style',
			label: 'Path-style addressing',
			description: 'Address buckets as https://host/bucket instead of https://bucket.host. Default: on for other endpoints, off for Amazon S3.',
			required: false,
			kind: 'boolean',
		},
		{
			name: 'access-key-id',
			label: 'Access key ID',
			description: 'Access key ID; with the secret access key, it takes precedence over a profile. Empty: the AWS SDK\'s credential chain.',
			required: false,
			env: ['AWS_ACCESS_KEY_ID'],
			placeholder: 'AKIA…',
		},
		declareSecretOption({name: 'secret-access-key', label: 'Secret access key', description: 'Secret access key belonging to the access key ID.', env: ['AWS_SECRET_ACCESS_KEY']}),
		declareSecretOption({name: 'session-token', label: 'Session token', description: 'Session token of temporary credentials (STS, SSO).', env: ['AWS_SESSION_TOKEN']}),
		{
			name: 'profile',
			label: 'Profile',
			description: 'Profile of ~/.aws/credentials and ~/.aws/config (AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE move them) to take credentials from.',
			required: false,
			env: ['AWS_PROFILE'],
			placeholder: 'default',
		},
		declareChoiceOption({name: 'checksum', label: 'Request checksums', description: 'when_required computes checksums only where S3 demands them; when_supported adds them to every upload (the AWS default, whose streamed aws-chunked framing some S3-compatible servers store as data). Default: when_required for other endpoints, when_supported for Amazon S3.', choices: ['when_required', 'when_supported']}),
		{
			name: 'storage-class',
			label: 'Storage class',
			description: 'Class of objects that no .storageconfig rule covers, e.g. STANDARD_IA; empty: the bucket\'s default. Use `cairn storageconfig` for a class per kind of file.',
			required: false,
			placeholder: 'STANDARD',
			validate: (value) => (/^[A-Za-z0-9_-]+$/.test(value) ? undefined : `must be a storage class name such as ${S3_STORAGE_CLASSES.slice(0, 3).join(', ')}`),
		},
		declareChoiceOption({name: 'retention-mode', label: 'Object lock mode', description: 'Put every object cairn writes under S3 object lock in this mode (the bucket needs object lock enabled). GOVERNANCE can be lifted with a special permission, COMPLIANCE by nobody.', choices: RETENTION_MODES}),
		{
			name: 'retention-period',
			label: 'Object lock period',
			description: 'How long each object stays locked after it is written, e.g. 30d, 12w, 1y (a bare number means days). Needed with the lock mode.',
			required: false,
			placeholder: '30d',
			validate: checkRetentionPeriod,
		},
		declareChoiceOption({name: 'thaw-tier', label: 'Thaw tier', description: 'Retrieval tier used to thaw GLACIER and DEEP_ARCHIVE objects: Expedited (minutes, GLACIER only, dearest), Standard (hours) or Bulk (cheapest, slowest).', choices: S3_THAW_TIERS, default: 'Standard'}),
		{
			name: 'thaw-days',
			label: 'Thaw days',
			description: 'Days a thawed copy stays readable (and billed as standard storage).',
			required: false,
			kind: 'number',
			default: '7',
			validate: checkWholeNumber(1, 365),
		},
		declareConnectionsOption({defaultCount: 8, max: 128}),
	],
	parseLocation: parseS3Location,
	formatLocation: formatS3Location,
	open: async (values) => (await import('./storage.js')).createS3Storage(readS3StorageOptions(values)),
};

/** Turns resolved `s3.*` values into {@link S3StorageOptions}; throws PermanentError for combinations that cannot work. */
export function readS3StorageOptions(values: OptionValues): S3StorageOptions {
	const bucket = requireValue(values, 'bucket', 'the S3 adapter needs a bucket, e.g. s3:my-bucket/prefix');
	const accessKeyId = values['access-key-id'];
	const secretAccessKey = values['secret-access-key'];
	requireBoth(accessKeyId, secretAccessKey, {
		first: 'a secret access key was given without an access key ID: set AWS_ACCESS_KEY_ID or -o s3.access-key-id=…',
		second: 'an access key ID was given without its secret: set AWS_SECRET_ACCESS_KEY or -o s3.secret-access-key=…',
	});
	const mode = values['retention-mode'] as RetentionMode | undefined;
	const period = values['retention-period'];
	requireBoth(mode, period, {
		first: 'an object lock period was given without a mode: add -o s3.retention-mode=GOVERNANCE (or COMPLIANCE)',
		second: 'an object lock mode was given without a period: add -o s3.retention-period=30d (for example)',
	});
	return {
		endpoint: values['endpoint'],
		bucket,
		prefix: values['prefix'],
		region: values['region'],
		pathStyle: readBooleanOption(values, 'path-style'),
		accessKeyId,
		secretAccessKey,
		sessionToken: values['session-token'],
		profile: values['profile'],
		checksum: values['checksum'] as ChecksumPolicy | undefined,
		connections: readNumberOption(values, 'connections'),
		storageClass: values['storage-class'],
		retention: mode === undefined || period === undefined ? undefined : {mode, periodMs: parseRetentionPeriod(period)!},
		thawTier: values['thaw-tier'] as S3ThawTier | undefined,
		thawDays: readNumberOption(values, 'thaw-days'),
	};
}

