/**
 * Extended attributes of backed-up entries, recorded as restic 0.14 records them: every attribute
 * the kernel lists (user.* for anyone; trusted.* too for root; security.* and system.* as the file
 * system offers them), on every entry but symlinks, omitted when there are none.
 */
import type {TreeNode} from '../format/tree.js';
import {readXattrs, type ExtendedAttribute} from '../util/file-metadata.js';
import {displayPath, type FsPath} from './fs-path.js';

/**
 * Reads attributes into nodes. A file system without extended attributes (or a process where the
 * native calls cannot load) is told once per device through `notice`, not as an error; another
 * failure is a warning for that entry, which is still saved without its attributes.
 */
export class XattrReader {
	private readonly unsupported = new Set<bigint | 'all'>();

	constructor(private readonly warn: (path: string, message: string) => void, private readonly notice: (message: string) => void) {}

	fill(path: FsPath, node: TreeNode, device: bigint): void {
		const attributes = this.read(path, node.type === 'symlink', device);
		if (attributes) node.extended_attributes = attributes;
	}

	/**
	 * The attributes of an entry (none for a symlink), or undefined when it has none or they
	 * cannot be read (told as {@link fill} tells it).
	 */
	read(path: FsPath, isSymlink: boolean, device: bigint): ExtendedAttribute[] | undefined {
		if (isSymlink || this.unsupported.has('all') || (this.unsupported.size > 0 && this.unsupported.has(device))) return undefined;
		const result = readXattrs(path);
		if (result.ok) return result.attributes.length > 0 ? result.attributes : undefined;
		this.report(path, device, result);
		return undefined;
	}

	private report(path: FsPath, device: bigint, result: Exclude<ReturnType<typeof readXattrs>, {ok: true}>): void {
		if (result.unsupported) {
			const native = result.scope === 'process';
			this.unsupported.add(native ? 'all' : device);
			this.notice(native
				? `extended attributes are not backed up: ${result.message}`
				: `the file system of ${displayPath(path)} does not support extended attributes (${result.message}); entries on it are saved without them`);
			return;
		}
		this.warn(displayPath(path), result.message);
	}
}
