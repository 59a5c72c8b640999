/**
 * The Swift adapter against a real OpenStack Swift (Debian's 2.30, started by the test helper):
 * conformance, large objects as segments, storage policies, token renewal, paged listings and the
 * errors a person must be able to act on.
 */
import {randomBytes} from 'node:crypto';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import '../../adapters/index.js';
import {openRepositoryStorage, parseRepositoryLocation, redactValues} from '../../adapters/registry.js';
import {AuthError, NotFoundError, PermanentError, TransientError, type Storage} from '../../adapters/storage.js';
import {catchRejection, collect, isSameBytes, makeId, makeRandomData, runStorageConformance} from '../conformance/storage-suite.js';
import {startSwift, SWIFT_USERS, type RunningSwift} from '../helpers/servers/swift.js';

let swift: RunningSwift;

beforeAll(async () => {
	swift = await startSwift();
}, 60_000);

afterAll(async () => {
	await swift?.stop();
});

/** ST_* variables of the v1 user, as restic users set them. */
function v1Env(user: keyof typeof SWIFT_USERS = 'test:tester'): Record<string, string> {
	return {ST_AUTH: swift.authUrl, ST_USER: user, ST_KEY: SWIFT_USERS[user]};
}

function openSwift(location: string, options: Record<string, string> = {}, env: Record<string, string> = v1Env()): Promise<Storage> {
	return openRepositoryStorage(location, options, env);
}

function uniqueContainer(): string {
	return `c-${randomBytes(5).toString('hex')}`;
}

runStorageConformance('swift (OpenStack Swift 2.30)', async () => ({storage: await openSwift(`swift:${uniqueContainer()}:/repo/${randomBytes(4).toString('hex')}`)}));
