import {addKey, changePassword, listKeys, removeKey} from '../../engine/repository/keys.js';
import {UsageError} from '../../engine/errors.js';
import {openRepository, printJson, type GlobalFlags} from '../cli/context.js';
import {resolvePassword} from '../cli/password.js';

/** Flags of `cairn key`. */
export interface KeyFlags extends GlobalFlags {
	newPasswordFile?: string;
	host?: string;
	user?: string;
}

async function readNewPassword(flags: KeyFlags): Promise<string> {
	const env = {CAIRN_PASSWORD: process.env.CAIRN_NEW_PASSWORD};
	if (!flags.newPasswordFile && !env.CAIRN_PASSWORD && !process.stdin.isTTY) {
		throw new UsageError('no new password given: use --new-password-file FILE or set CAIRN_NEW_PASSWORD');
	}
	return resolvePassword({passwordFile: flags.newPasswordFile}, {confirm: true, prompt: 'enter new password: '}, env);
}

/** `cairn key list|add|remove|passwd`. */
export async function runKey(action: string, id: string | undefined, flags: KeyFlags, signal: AbortSignal): Promise<number> {
	if (!['list', 'add', 'remove', 'passwd'].includes(action)) throw new UsageError(`unknown key action ${JSON.stringify(action)}: use list, add, remove or passwd`);
	const repo = await openRepository(flags, signal);
	try {
		switch (action) {
			case 'list': {
				const keys = await listKeys(repo.storage, {signal});
				if (flags.json) {
					printJson(keys.map((k) => ({current: k.id === repo.keyId, id: k.id.slice(0, 8), userName: k.username, hostName: k.hostname, created: k.created.toISOString()})));
				} else {
					process.stdout.write(' ID        User        Host                  Created\n');
					for (const k of keys) {
						process.stdout.write(`${k.id === repo.keyId ? '*' : ' '}${k.id.slice(0, 8)}  ${k.username.padEnd(10)}  ${k.hostname.padEnd(20)}  ${Number.isNaN(k.created.getTime()) ? '?' : k.created.toISOString()}\n`);
					}
				}
				return 0;
			}
			case 'add': {
				const password = await readNewPassword(flags);
				const newId = await addKey(repo.storage, repo.key, password, {hostname: flags.host, username: flags.user, signal});
				process.stdout.write(`saved new key ${newId.slice(0, 8)}\n`);
				return 0;
			}
			case 'remove': {
				if (!id) throw new UsageError('which key? give its ID: cairn key remove ID (see cairn key list)');
				const removed = await removeKey(repo.storage, id, repo.keyId, {signal});
				process.stdout.write(`removed key ${removed.slice(0, 8)}\n`);
				return 0;
			}
			default: {
				const password = await readNewPassword(flags);
				const newId = await changePassword(repo.storage, repo.key, repo.keyId, password, {hostname: flags.host, username: flags.user, signal});
				process.stdout.write(`password changed: new key ${newId.slice(0, 8)} replaces ${repo.keyId.slice(0, 8)}\n`);
				return 0;
			}
		}
	} finally {
		await repo.close();
	}
}
