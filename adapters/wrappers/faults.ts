/**
 * A fault-injecting Storage for tests: a script makes chosen calls fail, or damages what a load returns.
 */

import {pathOf, type FileHandle, type FileInfo, type FileType, type Storage} from '../storage.js';
import type {StorageOperation} from './shared.js';

/** An error class to instantiate, such as TransientError or NotFoundError. */
export type FaultErrorClass = new (message: string, options?: {cause?: unknown}) => Error;

/**
 * What happens to a matching call.
 * - `fail`: the call rejects with `error` (an instance is thrown as is; a class is built with
 *   `message` or a default). With `after: true` the inner call runs first and its effect stays
 *   (a lost reply). For `list`, `afterItems` names are yielded before the failure (default 0).
 * - `truncate` (load only): only the first `keepBytes` bytes are returned.
 * - `corrupt` (load only): the byte at `offset` (default: the middle) has all its bits flipped.
 */
export type Fault =
	| {readonly kind: 'fail'; readonly error: FaultErrorClass | Error; readonly message?: string; readonly after?: boolean; readonly afterItems?: number}
	| {readonly kind: 'truncate'; readonly keepBytes: number}
	| {readonly kind: 'corrupt'; readonly offset?: number};

/**
 * One line of a fault script: which calls it hits and what it does.
 * Calls are counted per method from 1, over every call of that method through the wrapper,
 * whether or not it matches `type` and `name`.
 */
export interface FaultRule {
	readonly method: StorageOperation;
	/** Call numbers this rule applies to; omitted, every call. */
	readonly call?: number | readonly number[];
	/** Only calls on this file type (for `list`, the listed type). */
	readonly type?: FileType;
	/** Only calls on this file name. */
	readonly name?: string;
	readonly fault: Fault;
}

/** The rules, read at every call (so a test may push more later); the first matching rule applies. */
export type FaultScript = FaultRule[];

/** A Storage that injects faults and counts calls. */
export interface FaultInjectingStorage extends Storage {
	/** Calls made so far, per method. */
	readonly calls: Readonly<Record<StorageOperation, number>>;
	/** One line per injected fault, e.g. `load #2 keys/1f…: truncate`. */
	readonly injected: readonly string[];
}

/** A `fail` fault. */
export function failWith(error: FaultErrorClass | Error, options: {message?: string; after?: boolean; afterItems?: number} = {}): Fault {
	return {kind: 'fail', error, ...options};
}

/**
 * Wraps a Storage so that the calls picked by `script` fail or return damaged data.
 * Calls matched by no rule pass through unchanged.
 */
export function withFaults(storage: Storage, script: FaultScript): FaultInjectingStorage {
	const calls: Record<StorageOperation, number> = {create: 0, save: 0, load: 0, stat: 0, list: 0, remove: 0};
	const injected: string[] = [];

	/** Counts the call and returns the first rule that matches it, with the call's number. */
	const match = (method: StorageOperation, type?: FileType, name?: string): {rule?: FaultRule; number: number} => {
		const number = ++calls[method];
		const rule = script.find((candidate) => {
			if (candidate.method !== method) return false;
			if (candidate.type !== undefined && candidate.type !== type) return false;
			if (candidate.name !== undefined && candidate.name !== name) return false;
			if (candidate.call === undefined) return true;
			return typeof candidate.call === 'number' ? candidate.call === number : candidate.call.includes(number);
		});
		if (rule !== undefined && rule.fault.kind !== 'fail' && method !== 'load') {
			throw new TypeError(`a ${rule.fault.kind} fault applies to load only, not to ${method}`);
		}
		return {rule, number};
	};

	/** Builds the error of a `fail` fault. */
	const buildError = (fault: Extract<Fault, {kind: 'fail'}>, method: StorageOperation, number: number, target: string): Error => {
		injected.push(`${method} #${number} ${target}: fail`);
		if (fault.error instanceof Error) return fault.error;
		return new fault.error(fault.message ?? `injected fault: ${method} call ${number} on ${target}`);
	};

	/** Runs a non-list call under the rule that matches it. */
	const run = async <T>(method: StorageOperation, handle: FileHandle | undefined, inner: () => Promise<T>): Promise<T> => {
		const {rule, number} = match(method, handle?.type, handle?.name);
		const target = handle === undefined ? storage.location : pathOf(handle);
		if (rule?.fault.kind !== 'fail') return inner();
		if (rule.fault.after === true) await inner();
		throw buildError(rule.fault, method, number, target);
	};

	/** Applies a truncate or corrupt fault to loaded bytes. */
	const damage = (bytes: Uint8Array, fault: Fault, number: number, target: string): Uint8Array => {
		if (fault.kind === 'truncate') {
			injected.push(`load #${number} ${target}: truncate`);
			return bytes.slice(0, Math.min(fault.keepBytes, bytes.byteLength));
		}
		if (fault.kind === 'corrupt' && bytes.byteLength > 0) {
			injected.push(`load #${number} ${target}: corrupt`);
			const copy = bytes.slice();
			const offset = Math.min(fault.offset ?? Math.floor(copy.byteLength / 2), copy.byteLength - 1);
			copy[offset] = (copy[offset] ?? 0) ^ 0xff;
			return copy;
		}
		return bytes;
	};

	return {
		location: storage.location,
		capabilities: storage.capabilities,
		get calls() {
			return {...calls};
		},
		injected,
		create: (operation) => run('create', undefined, () => storage.create(operation)),
		save: (handle, data, operation) => run('save', handle, () => storage.save(handle, data, operation)),
		stat: (handle, operation) => run('stat', handle, () => storage.stat(handle, operation)),
		remove: (handle, operation) => run('remove', handle, () => storage.remove(handle, operation)),
		load: async (handle, operation) => {
			const {rule, number} = match('load', handle.type, handle.name);
			if (rule === undefined) return storage.load(handle, operation);
			const fault = rule.fault;
			if (fault.kind === 'fail') {
				if (fault.after === true) await storage.load(handle, operation);
				throw buildError(fault, 'load', number, pathOf(handle));
			}
			return damage(await storage.load(handle, operation), fault, number, pathOf(handle));
		},
		async *list(type, operation): AsyncIterable<FileInfo> {
			const {rule, number} = match('list', type);
			if (rule?.fault.kind !== 'fail') {
				yield* storage.list(type, operation);
				return;
			}
			const fault = rule.fault;
			const limit = fault.afterItems ?? 0;
			let count = 0;
			if (limit > 0) {
				for await (const info of storage.list(type, operation)) {
					yield info;
					if (++count >= limit) break;
				}
			}
			throw buildError(fault, 'list', number, type);
		},
		close: () => storage.close(),
	};
}
