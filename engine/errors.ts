/**
 * Engine errors. Each carries a sentence meant for a person and, where the CLI maps it to
 * restic's exit codes, an `exitCode`.
 */

export class CairnError extends Error {
	/** restic-compatible process exit code for this failure. */
	readonly exitCode: number;

	constructor(message: string, options?: {cause?: unknown; exitCode?: number}) {
		super(message, options?.cause === undefined ? undefined : {cause: options.cause});
		this.exitCode = options?.exitCode ?? 1;
		Object.defineProperty(this, 'name', {value: new.target.name, enumerable: false});
	}
}

/** No repository exists at the location (exit 10). */
export class RepositoryNotFoundError extends CairnError {
	constructor(message: string, options?: {cause?: unknown}) {
		super(message, {...options, exitCode: 10});
	}
}

/** No key file could be opened with the password (exit 12). */
export class WrongPasswordError extends CairnError {
	constructor(message = 'wrong password or no key found: the password does not open any key of this repository; check CAIRN_PASSWORD / --password-file', options?: {cause?: unknown}) {
		super(message, {...options, exitCode: 12});
	}
}

/** A lock could not be taken (exit 11). */
export class LockError extends CairnError {
	constructor(message: string, options?: {cause?: unknown}) {
		super(message, {...options, exitCode: 11});
	}
}

/** Data failed its MAC or hash check, or could not be parsed. */
export class IntegrityError extends CairnError {}

/** Bad usage: wrong flags or arguments (exit 2). */
export class UsageError extends CairnError {
	constructor(message: string, options?: {cause?: unknown}) {
		super(message, {...options, exitCode: 2});
	}
}

/** The operation was cancelled by the user (exit 130). */
export class CancelledError extends CairnError {
	constructor(message = 'interrupted', options?: {cause?: unknown}) {
		super(message, {...options, exitCode: 130});
	}
}
