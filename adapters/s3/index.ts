/**
 * The `s3:` scheme: its option declaration for the registry (CLI `-o s3.*`, TUI forms, saved
 * profiles) and the opener that turns resolved values into an {@link S3Storage}.
 */

import type {OptionValues} from '../options.js';
import {readS3StorageOptions} from './adapter.js';
import {createS3Storage, type S3Storage} from './storage.js';

export {readS3StorageOptions, s3Adapter} from './adapter.js';

export {createS3Client, describeService, resolveChecksumPolicy, type ChecksumPolicy, type S3Settings} from './client.js';
export {mapS3Error, REQUIRED_PERMISSIONS} from './errors.js';
export {cleanPrefix, formatS3Location, joinKey, parseS3Location} from './location.js';
export {parseRetentionPeriod, RETENTION_MODES, type RetentionMode} from './retention.js';
export {createS3Storage, DEFAULT_PART_SIZE, readThawState, S3_COLD_CLASSES, S3_STORAGE_CLASSES, S3_THAW_TIERS, S3Storage, type S3StorageOptions, type S3ThawTier} from './storage.js';

/** Opens an S3 storage from resolved values (for callers that want the concrete type). */
export async function openS3Storage(values: OptionValues): Promise<S3Storage> {
	return createS3Storage(readS3StorageOptions(values));
}
