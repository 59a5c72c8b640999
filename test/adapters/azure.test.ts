/**
 * The Azure adapter against azurite: conformance, access tiers under a `.storageconfig`, the
 * Archive tier (cold loads, rehydration), and the errors a person must be able to act on.
 */
import {randomBytes} from 'node:crypto';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import '../../adapters/index.js';
import {azureAdapter, createAzureStorage, parseAzureLocation, readAzureStorageOptions, readAzureThawState, type AzureStorageOptions} from '../../adapters/azure/index.js';
import {parseRepositoryLocation, redactValues} from '../../adapters/registry.js';
import {ColdStorageError, isColdStorageError} from '../../adapters/shared/storage-errors.js';
import {AuthError, NotFoundError, PermanentError, TransientError, pathOf, type FileHandle} from '../../adapters/storage.js';
import {catchRejection, isSameBytes, makeId, makeRandomData, runStorageConformance} from '../conformance/storage-suite.js';
import {AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type RunningAzurite} from '../helpers/servers/azurite.js';

const MiB = 1024 * 1024;
let azurite: RunningAzurite;

beforeAll(async () => {
	azurite = await startAzurite();
	await azurite.createContainer('cairn');
});

afterAll(async () => {
	await azurite?.close();
});

function makeStorage(extra: Partial<AzureStorageOptions> = {}) {
	return createAzureStorage({endpoint: azurite.endpoint, accountName: AZURITE_ACCOUNT, accountKey: AZURITE_KEY, container: 'cairn', prefix: `t/${randomBytes(6).toString('hex')}`, ...extra});
}

runStorageConformance('azure (azurite)', async () => ({storage: makeStorage()}));

describe('azure locations and options', () => {
	it.each([
		['backups:/laptop/home', {container: 'backups', prefix: 'laptop/home'}],
		['backups:/', {container: 'backups'}],
		['backups', {container: 'backups'}],
		['my-backups:laptop', {container: 'my-backups', prefix: 'laptop'}],
	])('parses azure:%s', (rest, expected) => {
		expect(parseAzureLocation(rest)).toEqual(expected);
		expect(parseAzureLocation(azureAdapter.formatLocation(expected))).toEqual(expected);
	});

	it.each([['Backups:/x', /not a valid container name/], ['a:/x', /not a valid container name/], ['back--ups:/x', /not a valid container name/], ['backups/x:/y', /not a container name/], ['backups:/../x', /must not contain/]])(
		'refuses azure:%s',
		(rest, message) => {
			expect(() => parseAzureLocation(rest)).toThrow(message);
		},
	);

	it('takes the account from the environment, redacts the key and SAS, and needs one of them', () => {
		const env = {AZURE_ACCOUNT_NAME: 'acct', AZURE_ACCOUNT_KEY: 'S0-SECRET-KEY==', AZURE_ACCOUNT_SAS: 'sv=2022&sig=SECRET-SIG'};
		const parsed = parseRepositoryLocation('azure:backups:/p', {'azure.access-tier': 'Cool'}, env);
		expect(parsed.values).toMatchObject({container: 'backups', prefix: 'p', 'account-name': 'acct', 'endpoint-suffix': 'core.windows.net', 'access-tier': 'Cool', 'thaw-tier': 'Cool', 'thaw-priority': 'Standard'});
		const shown = JSON.stringify(redactValues(parsed.values, parsed.adapter));
		expect(shown).not.toContain('S0-SECRET-KEY');
		expect(shown).not.toContain('SECRET-SIG');
		expect(readAzureStorageOptions(parsed.values).sas).toBeUndefined();
		expect(() => readAzureStorageOptions({container: 'backups', 'account-name': 'acct'})).toThrow(/account key .* or a SAS token/);
		expect(() => parseRepositoryLocation('azure:backups:/p', {'azure.access-tier': 'Frozen'}, env)).toThrow(/Hot, Cool, Cold, Archive/);
		expect(() => parseRepositoryLocation('azure:backups:/p', {}, {})).toThrow(/Account name \(azure.account-name\) is required.*AZURE_ACCOUNT_NAME/);
	});

	it('reads the thaw state from the blob properties', () => {
		expect(readAzureThawState({accessTier: 'Hot'})).toBe('ready');
		expect(readAzureThawState({accessTier: 'Archive'})).toBe('frozen');
		expect(readAzureThawState({accessTier: 'Archive', archiveStatus: 'rehydrate-pending-to-cool'})).toBe('pending');
	});
});

describe('azure against azurite', () => {
	it('stores each blob in the tier of the first matching .storageconfig rule, with block uploads for large ones', async () => {
		const storage = makeStorage({accessTier: 'Hot', blockSize: 4 * MiB, blockThreshold: 4 * MiB});
		await storage.create();
		await storage.storageConfig.write(new TextEncoder().encode('{"blobOptions":[{"prefix":"data/","storageClass":"Cold"},{"prefix":"index/","storageClass":"cool"}]}'));
		const handles: Array<[FileHandle, number, string]> = [
			[{type: 'data', name: makeId()}, 1000, 'Cold'],
			[{type: 'data', name: makeId()}, 9 * MiB + 3, 'Cold'],
			[{type: 'index', name: makeId()}, 1000, 'Cool'],
			[{type: 'keys', name: makeId()}, 1000, 'Hot'],
		];
		const data = new Map<FileHandle, Uint8Array>();
		for (const [handle, size] of handles) {
			data.set(handle, makeRandomData(size));
			await storage.save(handle, data.get(handle)!);
		}
		for (const [handle, size, tier] of handles) {
			const properties = await storage.containerClient.getBlockBlobClient(`${storage.location.split(':/')[1]}/${pathOf(handle)}`).getProperties();
			expect(properties.accessTier, pathOf(handle)).toBe(tier);
			expect(properties.contentLength).toBe(size);
			expect(isSameBytes(await storage.load(handle), data.get(handle)!)).toBe(true);
		}
		const blocks = await storage.containerClient.getBlockBlobClient(`${storage.location.split(':/')[1]}/${pathOf(handles[1]![0])}`).getBlockList('committed');
		expect(blocks.committedBlocks?.length).toBe(3);
		await storage.close();
	});

	it('refuses to read an archived blob, rehydrates it on thaw, then reads it', async () => {
		const storage = makeStorage({thawTier: 'Hot', thawPriority: 'High'});
		await storage.create();
		await storage.storageConfig.write(new TextEncoder().encode('{"blobOptions":[{"prefix":"data/","storageClass":"Archive"}]}'));
		const handle = {type: 'data' as const, name: makeId()};
		const data = makeRandomData(5000);
		await storage.save(handle, data);
		const error = await catchRejection(storage.load(handle, {offset: 10, length: 100}));
		expect(error).toBeInstanceOf(ColdStorageError);
		expect(isColdStorageError(error)).toBe(true);
		expect((error as Error).message).toMatch(/Archive tier .*cairn restore --thaw/);
		expect(await storage.thaw(handle, {checkOnly: true})).toBe('frozen');
		expect(await storage.thaw(handle)).toBe('started');
		// azurite rehydrates at once; Azure reports rehydrate-pending-to-hot for hours first.
		expect(await storage.thaw(handle)).toBe('ready');
		expect(isSameBytes(await storage.load(handle), data)).toBe(true);
		const blob = storage.containerClient.getBlockBlobClient(`${storage.location.split(':/')[1]}/${pathOf(handle)}`);
		expect((await blob.getProperties()).accessTier).toBe('Hot');
		expect(await catchRejection(storage.thaw({type: 'data', name: makeId()}))).toBeInstanceOf(NotFoundError);
		await storage.close();
	});

	it('says the container must exist, that a key is wrong, and that nothing listens', async () => {
		const missing = makeStorage({container: 'no-such-container'});
		const error = await catchRejection(missing.create());
		expect(error).toBeInstanceOf(PermanentError);
		expect((error as Error).message).toMatch(/container "no-such-container" does not exist in storage account "devstoreaccount1"\. cairn does not create containers.*az storage container create/);
		const wrongKey = makeStorage({accountKey: Buffer.from('not the key').toString('base64')});
		const denied = await catchRejection(wrongKey.stat({type: 'config', name: ''}));
		expect(denied).toBeInstanceOf(AuthError);
		expect((denied as Error).message).toMatch(/refused the credentials .*check the account name .*AZURE_ACCOUNT_KEY/);
		expect((denied as Error).message).not.toContain('not the key');
		const nowhere = createAzureStorage({endpoint: 'http://127.0.0.1:9/devstoreaccount1', accountName: AZURITE_ACCOUNT, accountKey: AZURITE_KEY, container: 'cairn'});
		const refused = await catchRejection(nowhere.stat({type: 'config', name: ''}));
		expect(refused).toBeInstanceOf(TransientError);
		expect((refused as Error).message).toMatch(/refused the connection/);
		for (const storage of [missing, wrongKey, nowhere]) await storage.close();
	});

	it('works with a SAS token instead of the key', async () => {
		const {generateAccountSASQueryParameters, AccountSASPermissions, AccountSASResourceTypes, AccountSASServices, StorageSharedKeyCredential} = await import('@azure/storage-blob');
		const sas = generateAccountSASQueryParameters(
			{expiresOn: new Date(Date.now() + 3_600_000), permissions: AccountSASPermissions.parse('rwdlc'), resourceTypes: AccountSASResourceTypes.parse('sco').toString(), services: AccountSASServices.parse('b').toString()},
			new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
		).toString();
		const storage = makeStorage({accountKey: undefined, sas});
		await storage.create();
		const handle = {type: 'snapshots' as const, name: makeId()};
		const data = makeRandomData(300);
		await storage.save(handle, data);
		expect(isSameBytes(await storage.load(handle), data)).toBe(true);
		await storage.remove(handle);
		expect(await catchRejection(storage.stat(handle))).toBeInstanceOf(NotFoundError);
		const readOnly = generateAccountSASQueryParameters(
			{expiresOn: new Date(Date.now() + 3_600_000), permissions: AccountSASPermissions.parse('rl'), resourceTypes: AccountSASResourceTypes.parse('sco').toString(), services: AccountSASServices.parse('b').toString()},
			new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
		).toString();
		const limited = makeStorage({accountKey: undefined, sas: readOnly});
		const denied = await catchRejection(limited.save({type: 'keys', name: makeId()}, makeRandomData(3)));
		expect(denied).toBeInstanceOf(AuthError);
		expect((denied as Error).message).toMatch(/need the write \(w\) and create \(c\) permission/);
		expect((denied as Error).message).not.toContain('sig=');
		await storage.close();
		await limited.close();
	});
});
