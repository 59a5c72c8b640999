/**
 * File-system calls Node does not offer, made through libc with the koffi FFI package (Linux):
 * extended attributes (llistxattr, lgetxattr, lsetxattr, fsetxattr) and file times to the
 * nanosecond (utimensat, futimens; Node's utimes takes a double and loses the last digits).
 *
 * koffi ships its native part as a prebuilt per-platform package and needs no install script.
 * Where it cannot load (another OS, a single-executable build without native addons, a libc it
 * does not find), {@link loadNativeFs} returns undefined once and says why in
 * {@link nativeFsUnavailableReason}; callers then fall back (times through fs.utimes, no xattrs).
 * Usable from worker threads too: each thread loads its own binding.
 */
import {createRequire} from 'node:module';
import * as os from 'node:os';

/** A path as text or raw bytes (names that are not valid UTF-8). */
export type NativePath = string | Buffer;

/**
 * The calls. Each throws an Error with `code` (e.g. `ENOTSUP`, `ENODATA`, `EPERM`) and `syscall`
 * when libc reports a failure, like Node's own fs errors. Times are nanoseconds since the epoch.
 */
export interface NativeFs {
	/** Names of the extended attributes of `path` (a symlink itself, not its target). */
	listXattrs(path: NativePath): string[];
	/** The value of one extended attribute of `path` (not following a symlink). */
	getXattr(path: NativePath, name: string): Buffer;
	/** Sets one extended attribute of `path` (not following a symlink). */
	setXattr(path: NativePath, name: string, value: Uint8Array): void;
	/** Sets one extended attribute of an open file. */
	setFdXattr(fd: number, name: string, value: Uint8Array): void;
	/** Sets access and modification times of `path`; `noFollow` sets a symlink's own times. */
	setTimes(path: NativePath, atimeNs: bigint, mtimeNs: bigint, noFollow?: boolean): void;
	/** Sets access and modification times of an open file. */
	setFdTimes(fd: number, atimeNs: bigint, mtimeNs: bigint): void;
}

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const NS_PER_S = 1_000_000_000n;
const LITTLE_ENDIAN = os.endianness() === 'LE';

let cached: NativeFs | undefined;
let failure: string | undefined;
let tried = false;

/** Why the native calls are unavailable (undefined while they are, or before the first load). */
export function nativeFsUnavailableReason(): string | undefined {
	return failure;
}

/** The native calls, loaded on first use; undefined when they cannot be loaded here. */
export function loadNativeFs(): NativeFs | undefined {
	if (tried) return cached;
	tried = true;
	if (process.env.CAIRN_NO_NATIVE === '1') {
		failure = 'disabled by CAIRN_NO_NATIVE=1';
		return undefined;
	}
	if (process.platform !== 'linux') {
		failure = `extended attributes and nanosecond times are supported on Linux only (this is ${process.platform})`;
		return undefined;
	}
	if (!['x64', 'arm64', 'riscv64', 'loong64', 'ppc64'].includes(process.arch)) {
		failure = `extended attributes and nanosecond times need a 64-bit Linux (this is ${process.arch})`;
		return undefined;
	}
	try {
		cached = bindLibc();
	} catch (error) {
		failure = `the koffi FFI package cannot be loaded: ${(error as Error).message}`;
		cached = undefined;
	}
	return cached;
}

/** Errno names by number (from Node's table). */
const ERRNO_NAMES = new Map(Object.entries(os.constants.errno).map(([name, value]) => [value, name]));

function toCString(p: NativePath): Buffer {
	const bytes = typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
	const out = Buffer.allocUnsafe(bytes.length + 1);
	bytes.copy(out);
	out[bytes.length] = 0;
	return out;
}

function bindLibc(): NativeFs {
	// Loaded lazily and synchronously, so that a missing package or addon is only a warning.
	const require = createRequire(import.meta.url);
	const koffi = require('koffi') as typeof import('koffi');
	let libc;
	try {
		libc = koffi.load('libc.so.6');
	} catch {
		libc = koffi.load('libc.so');
	}
	const llistxattr = libc.func('long llistxattr(const void *path, _Out_ void *list, size_t size)');
	const lgetxattr = libc.func('long lgetxattr(const void *path, const char *name, _Out_ void *value, size_t size)');
	const lsetxattr = libc.func('int lsetxattr(const void *path, const char *name, const void *value, size_t size, int flags)');
	const fsetxattr = libc.func('int fsetxattr(int fd, const char *name, const void *value, size_t size, int flags)');
	const utimensat = libc.func('int utimensat(int dirfd, const void *path, const void *times, int flags)');
	const futimens = libc.func('int futimens(int fd, const void *times)');

	const fail = (syscall: string, path?: NativePath): never => {
		const errno = koffi.errno();
		const code = ERRNO_NAMES.get(errno) ?? `E${errno}`;
		const shown = path === undefined ? '' : ` '${typeof path === 'string' ? path : path.toString('utf8')}'`;
		throw Object.assign(new Error(`${code}: ${os.constants.errno[code as keyof typeof os.constants.errno] !== undefined ? describeErrno(code) : 'error'}, ${syscall}${shown}`), {code, errno: -errno, syscall});
	};
	const times = Buffer.alloc(32);
	const listBuffer = Buffer.alloc(64 * 1024);
	let pathBuffer = Buffer.alloc(4096);
	/** The path NUL-terminated in a reused buffer (valid until the next call). */
	const writeCString = (p: NativePath): Buffer => {
		const length = typeof p === 'string' ? Buffer.byteLength(p, 'utf8') : p.length;
		if (length + 1 > pathBuffer.length) pathBuffer = Buffer.alloc(Math.max(length + 1, pathBuffer.length * 2));
		if (typeof p === 'string') pathBuffer.write(p, 0, 'utf8');
		else p.copy(pathBuffer);
		pathBuffer[length] = 0;
		return pathBuffer;
	};
	const fillTimes = (atimeNs: bigint, mtimeNs: bigint): Buffer => {
		writeTimespec(times, 0, atimeNs);
		writeTimespec(times, 16, mtimeNs);
		return times;
	};
	/** Reads a variable-size answer: asks for the size, then reads, again while it grew meanwhile. */
	const readSized = (call: (buffer: Buffer | null, size: number) => number, syscall: string, path: NativePath): Buffer => {
		for (let attempt = 0; attempt < 4; attempt++) {
			const size = call(null, 0);
			if (size < 0) fail(syscall, path);
			if (size === 0) return Buffer.alloc(0);
			const buffer = Buffer.alloc(size);
			const got = call(buffer, size);
			if (got >= 0) return buffer.subarray(0, got);
			if (koffi.errno() !== os.constants.errno.ERANGE) fail(syscall, path);
		}
		return fail(syscall, path);
	};
	return {
		listXattrs(path) {
			// Most entries have no attributes: one call into a reused buffer answers them without
			// allocating (a list never exceeds XATTR_LIST_MAX, 64 KiB, so ERANGE is rare).
			const cpath = writeCString(path);
			const size = Number(llistxattr(cpath, listBuffer, listBuffer.length));
			if (size === 0) return [];
			const list = size > 0 ? listBuffer.subarray(0, size) : readSized((buffer, length) => Number(llistxattr(toCString(path), buffer, length)), 'llistxattr', path);
			return list.toString('utf8').split('\0').filter(Boolean);
		},
		getXattr(path, name) {
			const cpath = toCString(path);
			return readSized((buffer, size) => Number(lgetxattr(cpath, name, buffer, size)), 'lgetxattr', path);
		},
		setXattr(path, name, value) {
			if (lsetxattr(toCString(path), name, value.byteLength === 0 ? Buffer.alloc(1) : value, value.byteLength, 0) !== 0) fail('lsetxattr', path);
		},
		setFdXattr(fd, name, value) {
			if (fsetxattr(fd, name, value.byteLength === 0 ? Buffer.alloc(1) : value, value.byteLength, 0) !== 0) fail('fsetxattr');
		},
		setTimes(path, atimeNs, mtimeNs, noFollow = false) {
			if (utimensat(AT_FDCWD, toCString(path), fillTimes(atimeNs, mtimeNs), noFollow ? AT_SYMLINK_NOFOLLOW : 0) !== 0) fail('utimensat', path);
		},
		setFdTimes(fd, atimeNs, mtimeNs) {
			if (futimens(fd, fillTimes(atimeNs, mtimeNs)) !== 0) fail('futimens');
		},
	};
}

/** Writes a struct timespec (64-bit seconds and nanoseconds) with a non-negative nanosecond part. */
function writeTimespec(buffer: Buffer, offset: number, ns: bigint): void {
	let seconds = ns / NS_PER_S;
	let fraction = ns % NS_PER_S;
	if (fraction < 0n) {
		fraction += NS_PER_S;
		seconds -= 1n;
	}
	if (LITTLE_ENDIAN) {
		buffer.writeBigInt64LE(seconds, offset);
		buffer.writeBigInt64LE(fraction, offset + 8);
	} else {
		buffer.writeBigInt64BE(seconds, offset);
		buffer.writeBigInt64BE(fraction, offset + 8);
	}
}

function describeErrno(code: string): string {
	switch (code) {
		case 'ENOTSUP': return 'operation not supported';
		case 'ENODATA': return 'no such attribute';
		case 'EPERM': return 'operation not permitted';
		case 'EACCES': return 'permission denied';
		case 'ENOENT': return 'no such file or directory';
		case 'ENOSPC': return 'no space left on device';
		case 'E2BIG': return 'attribute value too large';
		case 'ERANGE': return 'value out of range';
		default: return 'system call failed';
	}
}
