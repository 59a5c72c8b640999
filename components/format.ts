/**
 * Text formatting for the full-screen app: times, IDs and cutting text to a column width.
 */
import {parseGoTime, toDate} from '../engine/format/time.js';

export {formatBytes, formatDuration} from '../source/cli/format.js';

/** The first eight characters of an ID, as restic shows them. */
export function shortenId(id: string): string {
	return id.slice(0, 8);
}

/** Times as restic writes them (`2024-01-02T15:04:05.123456789+01:00`), which Date.parse reads exactly to the millisecond. */
const COMMON_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$/;

/**
 * Milliseconds since the epoch of an RFC 3339 time from the repository, or undefined when it
 * cannot be read. The common form is read by Date.parse (lists of 10,000 snapshots or 100,000
 * entries parse many); other forms Go accepts go through the engine's parser.
 */
export function parseTimeMs(text: string): number | undefined {
	if (COMMON_TIME.test(text)) {
		const ms = Date.parse(text);
		if (!Number.isNaN(ms)) return ms;
	}
	try {
		return toDate(parseGoTime(text)).getTime();
	} catch {
		return undefined;
	}
}

/** Parses an RFC 3339 time from the repository into a Date; undefined when it cannot be parsed. */
export function parseRepositoryTime(text: string): Date | undefined {
	const ms = parseTimeMs(text);
	return ms === undefined ? undefined : new Date(ms);
}

function pad2(value: number): string {
	return String(value).padStart(2, '0');
}

/** `2024-05-01 12:30` in local time; with `seconds`, `2024-05-01 12:30:05`. */
export function formatLocalTime(date: Date | undefined, seconds = false): string {
	if (date === undefined || Number.isNaN(date.getTime())) return '?';
	const day = `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}`;
	const time = `${pad2(date.getHours())}:${pad2(date.getMinutes())}`;
	return seconds ? `${day} ${time}:${pad2(date.getSeconds())}` : `${day} ${time}`;
}

/** How long ago `date` was, in a few characters: `just now`, `5 min ago`, `3 h ago`, `2 days ago`. */
export function formatRelativeTime(date: Date | undefined, now: number = Date.now()): string {
	if (date === undefined || Number.isNaN(date.getTime())) return '?';
	const seconds = Math.round((now - date.getTime()) / 1000);
	if (seconds < 0) return 'in future';
	if (seconds < 60) return 'just now';
	const minutes = Math.floor(seconds / 60);
	if (minutes < 60) return `${minutes} min ago`;
	const hours = Math.floor(minutes / 60);
	if (hours < 24) return `${hours} h ago`;
	const days = Math.floor(hours / 24);
	if (days < 2) return 'yesterday';
	if (days < 45) return `${days} days ago`;
	const months = Math.floor(days / 30.44);
	if (months < 18) return `${months} mo ago`;
	return `${Math.floor(days / 365.25)} y ago`;
}

/** Cuts `text` to `width` columns, ending with `…` when it was cut. */
export function truncateEnd(text: string, width: number): string {
	if (width <= 0) return '';
	if (text.length <= width) return text;
	return width === 1 ? '…' : text.slice(0, width - 1) + '…';
}

/** Cuts `text` to `width` columns from the left (`…end`), for paths whose end matters most. */
export function truncateStart(text: string, width: number): string {
	if (width <= 0) return '';
	if (text.length <= width) return text;
	return width === 1 ? '…' : '…' + text.slice(text.length - width + 1);
}

/** Cuts or pads `text` to exactly `width` columns. */
export function fitText(text: string, width: number): string {
	return truncateEnd(text, width).padEnd(Math.max(0, width));
}

/** Cuts or pads `text` to exactly `width` columns, aligned right. */
export function fitTextRight(text: string, width: number): string {
	return truncateEnd(text, width).padStart(Math.max(0, width));
}
