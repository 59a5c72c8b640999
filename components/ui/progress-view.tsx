/**
 * The live view of a backup or restore: files, bytes, a bar, throughput, ETA and the current file.
 */
import {Box, Text} from 'ink';
import type {ProgressEvent} from '../../engine/progress.js';
import {formatBytes, formatDuration, truncateStart} from '../format.js';
import {useAppContext} from './app-context.js';

/** A bar of `width` cells for a fraction in [0, 1]. */
export function formatBar(fraction: number, width: number): string {
	const cells = Math.max(0, width);
	const full = Math.round(Math.min(1, Math.max(0, fraction)) * cells);
	return '█'.repeat(full) + '░'.repeat(cells - full);
}

/** The lines of a progress view, as label and value. */
export function describeProgress(event: ProgressEvent | undefined): Array<[string, string]> {
	if (event === undefined) return [['Status', 'starting…']];
	const files = event.filesTotal !== undefined ? `${event.filesDone} of ${event.filesTotal}` : `${event.filesDone} (counting…)`;
	const bytes = event.bytesTotal !== undefined ? `${formatBytes(event.bytesDone)} of ${formatBytes(event.bytesTotal)}` : formatBytes(event.bytesDone);
	const eta = event.eta !== undefined && event.bytesDone < (event.bytesTotal ?? 0) ? formatDuration(event.eta) : event.bytesTotal !== undefined ? '0:00' : '…';
	return [
		['Files', files],
		['Data', bytes],
		['Speed', `${formatBytes(event.bytesPerSecond)}/s`],
		['Elapsed', formatDuration(event.elapsed)],
		['Left', `about ${eta}`],
		['Errors', String(event.errors)],
	];
}

/** Props of {@link ProgressView}. */
export interface ProgressViewProps {
	readonly progress?: ProgressEvent;
	readonly width: number;
}

/** Draws progress: a bar with the percentage, then one line per figure and the current file. */
export function ProgressView({progress, width}: ProgressViewProps) {
	const {color} = useAppContext();
	const fraction = progress?.bytesTotal ? progress.bytesDone / progress.bytesTotal : progress?.filesTotal ? progress.filesDone / progress.filesTotal : 0;
	const known = progress?.bytesTotal !== undefined || progress?.filesTotal !== undefined;
	const percent = known ? `${Math.floor(Math.min(1, fraction) * 100)}%` : '…';
	return (
		<Box flexDirection="column">
			<Text>
				<Text color={color ? 'cyan' : undefined}>{formatBar(known ? fraction : 0, Math.max(10, width - 8))}</Text>
				<Text bold>{' ' + percent.padStart(4)}</Text>
			</Text>
			{describeProgress(progress).map(([label, value]) => (
				<Text key={label}>
					<Text bold>{label.padEnd(9)}</Text>
					{value}
				</Text>
			))}
			<Text>
				<Text bold>{'Current'.padEnd(9)}</Text>
				{truncateStart(progress?.currentFile ?? '', Math.max(10, width - 10))}
			</Text>
		</Box>
	);
}
