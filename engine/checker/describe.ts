/**
 * Small helpers that turn IDs and errors into the words of check problems.
 */
import {pathOf} from '../../adapters/storage.js';
import {IntegrityError} from '../errors.js';

/** The repository path of a pack file, `data/ab/abcd…`. */
export function formatPackFile(packId: string): string {
	return pathOf({type: 'data', name: packId});
}

/** The first 8 characters of an ID, as restic shows IDs in lists. */
export function shortenId(id: string): string {
	return id.slice(0, 8);
}

/**
 * The message of an error without a leading mention of a subject (engine errors often start
 * with the file or blob they are about, and with "is damaged", which the problem already says).
 */
export function describeError(error: unknown, ...subjects: string[]): string {
	let message = error instanceof Error ? error.message : String(error);
	for (const subject of subjects) {
		for (const prefix of [`${subject} is damaged: `, `${subject}: `, `${subject} `]) {
			if (message.startsWith(prefix)) {
				message = message.slice(prefix.length);
				break;
			}
		}
	}
	return message;
}

/** Tells whether text is a full lowercase hex ID. */
export function isFullId(value: unknown): value is string {
	return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}

/** Tells whether an ID is all zeros (restic's null ID). */
export function isNullId(id: string): boolean {
	return /^0+$/.test(id);
}

/** How a problem with a file that failed to load begins: damage, or a failure to read. */
export function describeLoadFailure(error: unknown, ...subjects: string[]): string {
	const verb = error instanceof IntegrityError ? 'is damaged' : 'cannot be loaded';
	return `${verb}: ${describeError(error, ...subjects)}`;
}
