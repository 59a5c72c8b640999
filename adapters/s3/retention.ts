/**
 * Object-lock retention: the modes S3 knows and the durations cairn accepts for a retention period.
 */

/** The object-lock modes of S3. GOVERNANCE can be lifted by users with s3:BypassGovernanceRetention; COMPLIANCE by nobody. */
export const RETENTION_MODES = ['GOVERNANCE', 'COMPLIANCE'] as const;
export type RetentionMode = (typeof RETENTION_MODES)[number];

const UNIT_MS: Record<string, number> = {h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, y: 365 * 86_400_000};

/**
 * Parses a retention period: a whole number followed by `h` (hours), `d` (days), `w` (weeks) or
 * `y` (365-day years); a bare number means days. Returns milliseconds, or undefined when invalid.
 */
export function parseRetentionPeriod(text: string): number | undefined {
	const match = /^\s*(\d{1,6})\s*([hdwy]?)\s*$/i.exec(text);
	if (match === null) return undefined;
	const amount = Number(match[1]);
	if (amount <= 0) return undefined;
	return amount * UNIT_MS[(match[2] || 'd').toLowerCase()]!;
}

/** The `validate` of a retention-period option: an error fragment or undefined. */
export function checkRetentionPeriod(text: string): string | undefined {
	return parseRetentionPeriod(text) === undefined ? 'must be a duration such as 30d, 12w, 1y or 48h (a bare number means days)' : undefined;
}
