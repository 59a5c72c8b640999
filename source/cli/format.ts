/**
 * Formatting of sizes, durations and progress for the command line.
 */
import type {ProgressEvent} from '../../engine/progress.js';

/** Formats bytes with binary units (`1.50 MiB`). */
export function formatBytes(bytes: number): string {
	const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
	let value = bytes;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit++;
	}
	return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${units[unit]}`;
}

/** Formats seconds as `m:ss` or `h:mm:ss`. */
export function formatDuration(seconds: number): string {
	const s = Math.max(0, Math.round(seconds));
	const h = Math.floor(s / 3600);
	const m = Math.floor((s % 3600) / 60);
	const sec = String(s % 60).padStart(2, '0');
	return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** One line describing progress, cut to `width` columns. */
export function formatProgressLine(event: ProgressEvent, width: number): string {
	const parts = [`[${formatDuration(event.elapsed)}]`];
	if (event.bytesTotal) parts.push(`${Math.min(100, (event.bytesDone / event.bytesTotal) * 100).toFixed(1)}%`);
	parts.push(event.filesTotal !== undefined ? `${event.filesDone}/${event.filesTotal} files` : `${event.filesDone} files`);
	parts.push(event.bytesTotal !== undefined ? `${formatBytes(event.bytesDone)}/${formatBytes(event.bytesTotal)}` : formatBytes(event.bytesDone));
	parts.push(`${formatBytes(event.bytesPerSecond)}/s`);
	if (event.eta !== undefined) parts.push(`ETA ${formatDuration(event.eta)}`);
	if (event.errors) parts.push(`${event.errors} errors`);
	let line = parts.join(' ');
	if (event.currentFile) {
		const room = width - line.length - 1;
		if (room > 10) line += ' ' + (event.currentFile.length > room ? '…' + event.currentFile.slice(-(room - 1)) : event.currentFile);
	}
	return line.slice(0, Math.max(10, width));
}

/**
 * A one-line progress display on a terminal's stderr. Does nothing when stderr is not a TTY.
 */
export class ProgressLine {
	/** True when progress is drawn (stderr is a terminal and the caller wants it). */
	readonly enabled: boolean;
	private shown = false;

	constructor(enabled = true) {
		this.enabled = enabled && Boolean(process.stderr.isTTY);
	}

	/** Redraws the line. */
	update(event: ProgressEvent): void {
		if (!this.enabled) return;
		const width = process.stderr.columns || 80;
		process.stderr.write('\r\x1b[2K' + formatProgressLine(event, width - 1));
		this.shown = true;
	}

	/** Clears the line so that normal output can follow. */
	clear(): void {
		if (this.enabled && this.shown) process.stderr.write('\r\x1b[2K');
		this.shown = false;
	}
}
