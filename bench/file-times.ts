/**
 * Per-file cost of setting times to the nanosecond (utimensat/futimens through koffi) against
 * Node's fs.utimesSync/futimesSync (a double: about a microsecond). Run by hand on an idle machine:
 *
 *   npm run build --silent && node dist/bench/file-times.js [FILES]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {loadNativeFs, nativeFsUnavailableReason} from '../engine/util/native-fs.js';

const count = Number(process.argv[2] ?? 5000);
const native = loadNativeFs();
if (!native) throw new Error(`native calls unavailable: ${nativeFsUnavailableReason()}`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-times-'));
try {
	const files = Array.from({length: count}, (_, i) => path.join(dir, `f${i}`));
	for (const file of files) fs.writeFileSync(file, '');
	const fds = files.map((file) => fs.openSync(file, 'r+'));
	const measure = (label: string, call: (i: number) => void): void => {
		let best = Infinity;
		for (let round = 0; round < 5; round++) {
			const started = process.hrtime.bigint();
			for (let i = 0; i < count; i++) call(i);
			best = Math.min(best, Number(process.hrtime.bigint() - started) / count);
		}
		process.stdout.write(`${label.padEnd(32)} ${(best / 1000).toFixed(2)} µs per file (best of 5 rounds of ${count})\n`);
	};
	measure('fs.utimesSync (path)', (i) => fs.utimesSync(files[i]!, 1_600_000_000.123, 1_600_000_000.456));
	measure('utimensat via koffi (path)', (i) => native.setTimes(files[i]!, 1_600_000_000_123_456_789n, 1_600_000_000_456_789_123n));
	measure('fs.futimesSync (descriptor)', (i) => fs.futimesSync(fds[i]!, 1_600_000_000.123, 1_600_000_000.456));
	measure('futimens via koffi (descriptor)', (i) => native.setFdTimes(fds[i]!, 1_600_000_000_123_456_789n, 1_600_000_000_456_789_123n));
	for (const fd of fds) fs.closeSync(fd);
} finally {
	fs.rmSync(dir, {recursive: true, force: true});
}
