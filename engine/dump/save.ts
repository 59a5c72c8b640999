/**
 * Saving a dump to a file: written under a temporary name next to the target and renamed into
 * place once complete, so a failed or cancelled dump never leaves a partial file behind.
 */
import {randomBytes} from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type {ByteSink} from './sink.js';

/** Opens `target` for writing; `finish(true)` renames the finished file into place, `finish(false)` removes it. */
export async function saveToPath(target: string, mode = 0o644): Promise<{sink: ByteSink; finish: (ok: boolean) => Promise<void>}> {
	const temp = path.join(path.dirname(target), `.${path.basename(target)}.cairn-${randomBytes(4).toString('hex')}`);
	const handle = await fs.open(temp, 'wx', mode);
	let closed = false;
	const close = async (): Promise<void> => {
		if (closed) return;
		closed = true;
		await handle.close();
	};
	return {
		sink: {
			async write(bytes) {
				let offset = 0;
				while (offset < bytes.length) offset += (await handle.write(bytes, offset, bytes.length - offset)).bytesWritten;
			},
		},
		async finish(ok) {
			await close();
			if (ok) await fs.rename(temp, target);
			else await fs.rm(temp, {force: true});
		},
	};
}
