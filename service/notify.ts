/**
 * Reports of a run: a JSON POST to `notify.url` (healthchecks.io-style: a POST to the check's
 * ping URL; the JSON says whether the run failed), and a Prometheus textfile-collector file written
 * atomically. Neither ever carries a secret: the summary is built from the state, which holds none.
 */
import {writeFileAtomic} from './state.js';

/** What a notification says about a run. */
export interface RunSummary {
	readonly service: string;
	readonly event: 'success' | 'failure';
	readonly status: string;
	readonly repository: string;
	readonly host: string;
	readonly paths: readonly string[];
	readonly started: string;
	readonly finished: string;
	readonly duration_ms: number;
	readonly snapshot_id: string | null;
	readonly files: number | null;
	readonly bytes_added: number | null;
	readonly bytes_processed: number | null;
	readonly error: string | null;
}

/** POSTs the summary as JSON; resolves with the HTTP status. Throws on network errors and non-2xx answers (the message holds no URL). */
export async function postNotification(url: string, summary: RunSummary, timeoutMs: number): Promise<number> {
	const response = await fetch(url, {
		method: 'POST',
		headers: {'content-type': 'application/json', 'user-agent': 'cairn-service'},
		body: JSON.stringify(summary),
		signal: AbortSignal.timeout(timeoutMs),
	}).catch((error: unknown) => {
		const cause = (error as {cause?: {code?: string}}).cause?.code ?? (error as Error).name;
		throw new Error(`the notification could not be sent (${cause})`);
	});
	await response.arrayBuffer().catch(() => undefined);
	if (!response.ok) throw new Error(`the notification was refused: HTTP ${response.status}`);
	return response.status;
}

/** Metrics of the last run for the textfile collector. */
export interface RunMetrics {
	readonly service: string;
	readonly success: boolean;
	/** Unix seconds of the last successful backup (null: never). */
	readonly lastBackup: number | null;
	readonly durationSeconds: number;
	readonly bytesProcessed: number | null;
	readonly bytesAdded: number | null;
	readonly files: number | null;
	readonly snapshots: number;
	/** Unix seconds of this run's end. */
	readonly finished: number;
}

function escapeLabel(value: string): string {
	return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** The text of a Prometheus textfile (exposition format 0.0.4). */
export function formatPrometheusText(metrics: RunMetrics): string {
	const label = `{service="${escapeLabel(metrics.service)}"}`;
	const lines: string[] = [];
	const add = (name: string, help: string, value: number | null) => {
		if (value === null) return;
		lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name}${label} ${value}`);
	};
	add('cairn_backup_success', '1 when the last run succeeded, 0 when it failed.', metrics.success ? 1 : 0);
	add('cairn_backup_last_success_timestamp_seconds', 'Unix time of the last successful backup.', metrics.lastBackup);
	add('cairn_backup_duration_seconds', 'Duration of the last run.', Math.round(metrics.durationSeconds * 1000) / 1000);
	add('cairn_backup_size_bytes', 'Bytes of the files the last backup processed.', metrics.bytesProcessed);
	add('cairn_backup_added_bytes', 'Bytes the last backup added to the repository (before compression).', metrics.bytesAdded);
	add('cairn_backup_files', 'Files the last backup processed.', metrics.files);
	add('cairn_backup_snapshots', 'Snapshots in the repository after the last run.', metrics.snapshots);
	add('cairn_backup_last_run_timestamp_seconds', 'Unix time the last run ended.', metrics.finished);
	return lines.join('\n') + '\n';
}

/** Writes the textfile atomically, readable by the node exporter (mode 0644: it holds no secret). */
export async function writePrometheusTextfile(path: string, metrics: RunMetrics): Promise<void> {
	await writeFileAtomic(path, formatPrometheusText(metrics), 0o644);
}
