/**
 * User and group names for uids and gids, read once from /etc/passwd and /etc/group.
 */
import {readFileSync} from 'node:fs';

function readIdNames(file: string): Map<number, string> {
	const names = new Map<number, string>();
	try {
		for (const line of readFileSync(file, 'utf8').split('\n')) {
			const fields = line.split(':');
			if (fields.length >= 3 && fields[0] && !line.startsWith('#')) {
				const id = Number(fields[2]);
				if (Number.isInteger(id) && !names.has(id)) names.set(id, fields[0]);
			}
		}
	} catch {
		// no passwd/group file: names stay empty
	}
	return names;
}

let users: Map<number, string> | undefined;
let groups: Map<number, string> | undefined;

/** The user name of a uid, or '' when unknown. */
export function lookupUserName(uid: number): string {
	users ??= readIdNames('/etc/passwd');
	return users.get(uid) ?? '';
}

/** The group name of a gid, or '' when unknown. */
export function lookupGroupName(gid: number): string {
	groups ??= readIdNames('/etc/group');
	return groups.get(gid) ?? '';
}
