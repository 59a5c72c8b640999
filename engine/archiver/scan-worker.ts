/**
 * The count of files and bytes for a backup's progress (see scanner.ts), run in a worker thread
 * so that its second walk of the source (a listing of every directory and an lstat of every
 * file) runs on another core, beside the backup's own walk on the main thread, as restic's
 * scanner runs beside its archiver. Receives one {@link ScanRequest}, answers with the totals.
 */
import {parentPort} from 'node:worker_threads';
import {compileSelection} from './selection.js';
import {scanTotalsSync, type ScanRequest} from './scanner.js';

if (!parentPort) throw new Error('scan-worker must run in a worker thread');
const port = parentPort;
port.once('message', (request: ScanRequest) => {
	let totals;
	try {
		const selection = compileSelection(request.selection, request.targets);
		totals = scanTotalsSync(request.paths, (p) => selection.rejectByName(p));
	} catch (error) {
		port.postMessage({error: (error as Error).message});
		return;
	}
	port.postMessage({totals});
});
