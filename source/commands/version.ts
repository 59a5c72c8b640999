import {describeZstd} from '../../engine/format/compression.js';
import {isStandalone} from '../../engine/util/embedded.js';
import {describeVersion, readBuildInfo} from '../../engine/version.js';
import {describeWasmKernels} from '../../engine/wasm/load.js';
import {printJson} from '../cli/context.js';

/**
 * `cairn version [--json]`: what `--version` prints, and then what this cairn runs on: whether it
 * is the single-file executable (and where), the zstd implementation, and which implementation of
 * each WebAssembly kernel it uses and where that came from.
 */
export async function runVersion(flags: {json?: boolean}): Promise<number> {
	const {version, commit} = readBuildInfo();
	const standalone = isStandalone();
	const kernels = describeWasmKernels();
	if (flags.json) {
		printJson({version, commit, node: process.version, platform: process.platform, arch: process.arch, executable: standalone ? process.execPath : null, zstd: describeZstd(), kernels});
		return 0;
	}
	const lines = [
		describeVersion(),
		`runs as:   ${standalone ? `single-file executable ${process.execPath}` : `${process.execPath} (Node.js) with the package's modules`}`,
		`zstd:      ${describeZstd()}`,
		...Object.entries(kernels).map(([name, described]) => `${`${name}:`.padEnd(10)} ${described}`),
	];
	process.stdout.write(`${lines.join('\n')}\n`);
	return 0;
}
