/**
 * Backblaze B2 locations, as restic writes them: `b2:BUCKET:/PREFIX` (also `b2:BUCKET:PREFIX`
 * and `b2:BUCKET` for the bucket's root).
 */

export {cleanPrefix, formatBucketLocation, joinKey, parseBucketLocation} from '../gcs/location.js';

/** B2 bucket names: 6–63 letters, digits and `-`, not starting with `b2-`. */
export function checkB2BucketName(name: string): string | undefined {
	if (!/^[A-Za-z0-9-]{6,63}$/.test(name)) return 'must be a B2 bucket name: 6 to 63 letters, digits or "-"';
	if (name.toLowerCase().startsWith('b2-')) return 'cannot start with "b2-" (Backblaze reserves such names)';
	return undefined;
}
