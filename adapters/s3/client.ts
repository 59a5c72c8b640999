/**
 * Building the S3 client from the adapter's settings: endpoint, region, addressing style,
 * credentials (explicit keys, a named profile, or the AWS SDK's default chain) and checksum policy.
 */

import {Agent as HttpAgent} from 'node:http';
import {Agent as HttpsAgent} from 'node:https';

import {S3Client, type S3ClientConfig} from '@aws-sdk/client-s3';

/** When the SDK computes request checksums and validates response checksums. */
export type ChecksumPolicy = 'when_required' | 'when_supported';

/** Everything needed to talk to one bucket. */
export interface S3Settings {
	/** `https://host[:port]` (or http) of an S3-compatible service; undefined for Amazon S3. */
	readonly endpoint?: string;
	readonly bucket: string;
	/** Folder inside the bucket (no leading or trailing slash); undefined for the bucket root. */
	readonly prefix?: string;
	/** Region; default `us-east-1` (Amazon S3 then follows the bucket's region redirect). */
	readonly region?: string;
	/** Path-style addressing (`host/bucket/key`); default true for other endpoints, false for Amazon S3. */
	readonly pathStyle?: boolean;
	readonly accessKeyId?: string;
	readonly secretAccessKey?: string;
	readonly sessionToken?: string;
	/** Profile of the shared config and credentials files (as AWS_PROFILE). */
	readonly profile?: string;
	/**
	 * Default `when_required` for other endpoints (see the module notes of adapters/s3/storage.ts:
	 * streamed bodies with aws-chunked framing get stored framing and all by many S3-compatible
	 * servers), `when_supported` for Amazon S3.
	 */
	readonly checksum?: ChecksumPolicy;
	/** Requests at once (sockets); default 8. */
	readonly connections?: number;
}

/** The default number of requests at once. */
export const DEFAULT_S3_CONNECTIONS = 8;

/** `Amazon S3` or the endpoint, for messages. */
export function describeService(settings: Pick<S3Settings, 'endpoint'>): string {
	return settings.endpoint ?? 'Amazon S3';
}

/** The checksum policy in force for these settings. */
export function resolveChecksumPolicy(settings: Pick<S3Settings, 'endpoint' | 'checksum'>): ChecksumPolicy {
	return settings.checksum ?? (settings.endpoint === undefined ? 'when_supported' : 'when_required');
}

/**
 * Creates the client. The SDK's own retries are off (`maxAttempts: 1`): retrying belongs to the
 * retry wrapper. Explicit keys win over a profile; with neither, the SDK's default chain reads
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, AWS_PROFILE,
 * AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, SSO, web identity and instance metadata.
 */
export function createS3Client(settings: S3Settings): S3Client {
	// The SDK warns on every run that its releases after January 2027 will need Node 22; cairn
	// supports Node 20, and the warning would only clutter its output.
	process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
	const connections = settings.connections ?? DEFAULT_S3_CONNECTIONS;
	const policy = resolveChecksumPolicy(settings) === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
	const agentOptions = {keepAlive: true, maxSockets: connections};
	const config: S3ClientConfig = {
		region: settings.region ?? 'us-east-1',
		maxAttempts: 1,
		requestChecksumCalculation: policy,
		responseChecksumValidation: policy,
		// Options of the SDK's Node HTTP handler (an object is accepted in place of an instance).
		requestHandler: {
			httpAgent: new HttpAgent(agentOptions),
			httpsAgent: new HttpsAgent(agentOptions),
			connectionTimeout: 30_000,
			requestTimeout: 300_000,
		},
	};
	if (settings.endpoint === undefined) {
		config.followRegionRedirects = true;
		config.forcePathStyle = settings.pathStyle ?? false;
	} else {
		config.endpoint = settings.endpoint;
		config.forcePathStyle = settings.pathStyle ?? true;
	}
	if (settings.accessKeyId !== undefined && settings.secretAccessKey !== undefined) {
		config.credentials = {accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey, sessionToken: settings.sessionToken};
	} else if (settings.profile !== undefined) {
		config.profile = settings.profile;
	}
	return new S3Client(config);
}
