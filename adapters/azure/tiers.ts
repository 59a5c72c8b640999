/**
 * Access tiers of Azure Blob Storage, kept apart from the SDK code so that the adapter's
 * declaration loads without the SDK.
 */

export const AZURE_ACCESS_TIERS = ['Hot', 'Cool', 'Cold', 'Archive'] as const;
/** Tiers whose blobs must be rehydrated before they can be read. */
export const AZURE_COLD_TIERS = ['Archive'] as const;
/** Tiers a rehydrated blob can be moved to. */
export const AZURE_THAW_TIERS = ['Hot', 'Cool', 'Cold'] as const;
export const AZURE_THAW_PRIORITIES = ['Standard', 'High'] as const;
