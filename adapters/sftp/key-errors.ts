/**
 * The SFTP error that callers outside the adapter recognise, in a module of its own so that
 * recognising it does not load ssh2.
 */
import {AuthError} from '../storage.js';

/** The key file needs a passphrase that was not given. */
export class KeyPassphraseError extends AuthError {
	constructor(readonly keyFile: string, message: string, options?: {cause?: unknown}) {
		super(message, options);
	}
}
