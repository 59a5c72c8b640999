/**
 * Storage classes and thaw tiers of S3, kept apart from the SDK code so that the adapter's
 * declaration loads without the SDK.
 */

/** Storage classes of Amazon S3 (S3-compatible services accept a subset, or their own names). */
export const S3_STORAGE_CLASSES = [
	'STANDARD', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE', 'REDUCED_REDUNDANCY', 'EXPRESS_ONEZONE',
] as const;
/** Classes whose objects must be restored (thawed) before a GET can read them. */
export const S3_COLD_CLASSES = ['GLACIER', 'DEEP_ARCHIVE'] as const;
/** Retrieval tiers of RestoreObject, cheapest last. */
export const S3_THAW_TIERS = ['Expedited', 'Standard', 'Bulk'] as const;
export type S3ThawTier = (typeof S3_THAW_TIERS)[number];
