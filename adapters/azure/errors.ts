/**
 * Turns @azure/storage-blob errors (RestError, with the service's error code) into the storage
 * error classes, with a sentence a person can act on. Messages name the account, container and
 * blob, never a key or a SAS.
 */

import {mapNetworkError} from '../shared/network-errors.js';
import {AuthError, NotFoundError, PermanentError, StorageError, TransientError} from '../storage.js';

/** What was being done, for messages and for naming the permission a refusal points to. */
export interface AzureErrorContext {
	readonly operation: 'create' | 'save' | 'load' | 'stat' | 'list' | 'remove' | 'thaw' | 'storageconfig';
	/** Blob name (with the prefix), or undefined for container-level calls. */
	readonly blob?: string;
	readonly container: string;
	readonly account: string;
	/** The blob endpoint, for messages (no SAS). */
	readonly service: string;
}

/** What a SAS (`sp=`) or an Azure role must allow for each operation. */
const PERMISSIONS: Record<AzureErrorContext['operation'], string> = {
	create: 'list (l)',
	save: 'write (w) and create (c)',
	load: 'read (r)',
	stat: 'read (r)',
	list: 'list (l)',
	remove: 'delete (d)',
	thaw: 'write (w) (Set Blob Tier)',
	storageconfig: 'read (r) and write (w)',
};

/** Everything cairn needs, for "access denied" hints. */
export const REQUIRED_AZURE_PERMISSIONS =
	'read, write, create, delete and list on the container (a SAS with sp=rwdlc on the blob service, resource types container and object, or the Storage Blob Data Contributor role)';

const TRANSIENT_CODES = new Set(['ServerBusy', 'OperationTimedOut', 'InternalError', 'IncrementalCopyOfEarlierVersionSnapshotNotAllowed', 'ContainerBeingDeleted']);

/** The service's error code (`BlobNotFound`, `AuthenticationFailed`, ...) or a network code. */
export function readAzureErrorCode(error: unknown): string | undefined {
	if (typeof error !== 'object' || error === null) return undefined;
	const record = error as {code?: unknown; details?: {errorCode?: unknown}};
	if (typeof record.details?.errorCode === 'string') return record.details.errorCode;
	return typeof record.code === 'string' ? record.code : undefined;
}

/** The HTTP status of a RestError, if there was a response. */
export function readAzureStatus(error: unknown): number | undefined {
	const status = (error as {statusCode?: unknown} | null)?.statusCode;
	return typeof status === 'number' ? status : undefined;
}

/** Tells whether an error is an abort from an AbortSignal. */
export function isAzureAbort(error: unknown): boolean {
	return error instanceof Error && (error.name === 'AbortError' || (error as {code?: unknown}).code === 'ABORT_ERR');
}

/**
 * Maps an error thrown by the Azure client to a {@link StorageError}. Storage errors and aborts
 * are returned unchanged; anything else keeps the original as `cause`.
 */
export function mapAzureError(error: unknown, context: AzureErrorContext): Error {
	if (error instanceof StorageError || isAzureAbort(error)) return error as Error;
	const options = {cause: error};
	const code = readAzureErrorCode(error);
	const status = readAzureStatus(error);
	const detail = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
	const target = context.blob === undefined ? `container "${context.container}"` : `${context.blob} in container "${context.container}"`;
	const action = `${context.operation} ${target} of account "${context.account}"`;

	if (code === 'ContainerNotFound') return describeMissingContainer(context, error);
	if (code === 'BlobNotFound' || (status === 404 && code !== 'ResourceNotFound' && code !== 'AccountNotFound')) {
		return new NotFoundError(`cannot ${action}: it does not exist`, options);
	}
	if (code === 'ResourceNotFound' || code === 'AccountNotFound') {
		return new PermanentError(`cannot ${action}: the storage account was not found at ${context.service}; check azure.account-name and azure.endpoint-suffix (or azure.endpoint)`, options);
	}
	if (code === 'AuthenticationFailed') {
		if (/not valid in the specified time frame|expired|Signed expiry time/i.test(detail)) {
			return new AuthError(`the SAS token for account "${context.account}" has expired or is not valid yet: create a new one (its se= and st= fields) and give it in AZURE_ACCOUNT_SAS or azure.account-sas`, options);
		}
		return new AuthError(
			`account "${context.account}" rejected the credentials: check the account name (AZURE_ACCOUNT_NAME) and the account key (AZURE_ACCOUNT_KEY) or SAS token (AZURE_ACCOUNT_SAS); a key regenerated in the portal invalidates the old one`,
			options,
		);
	}
	if (code === 'AuthorizationPermissionMismatch' || code === 'AuthorizationResourceTypeMismatch' || code === 'AuthorizationServiceMismatch') {
		return new AuthError(`access denied (${code}) while trying to ${action}: the credentials need the ${PERMISSIONS[context.operation]} permission for this step; cairn needs ${REQUIRED_AZURE_PERMISSIONS}`, options);
	}
	if (code === 'AuthorizationSourceIPMismatch' || code === 'AuthorizationProtocolMismatch') {
		const why = code === 'AuthorizationSourceIPMismatch' ? 'the SAS does not allow this computer\'s IP address' : 'the SAS allows HTTPS only';
		return new AuthError(`access denied (${code}) while trying to ${action}: ${why}`, options);
	}
	if (code === 'AuthorizationFailure' || status === 403) {
		// A bare refusal (HEAD answers carry no message): wrong credentials or a missing permission.
		return new AuthError(
			`account "${context.account}" refused the credentials (${code ?? 'HTTP 403'}) while trying to ${action}: check the account name (AZURE_ACCOUNT_NAME) and the account key (AZURE_ACCOUNT_KEY) or SAS token (AZURE_ACCOUNT_SAS), ` +
				`and that they allow ${PERMISSIONS[context.operation]}; cairn needs ${REQUIRED_AZURE_PERMISSIONS}`,
			options,
		);
	}
	if (code === 'InvalidRange' || status === 416) return new PermanentError(`cannot ${action}: the requested range is past the end of the blob`, options);
	if (code === 'InvalidHeaderValue' && /tier/i.test(detail)) {
		return new PermanentError(`cannot ${action}: the service does not accept the access tier asked for; check .storageconfig (cairn storageconfig show) and azure.access-tier`, options);
	}
	const network = mapNetworkError(error, context.service, action);
	if (network !== undefined) return network;
	if ((code !== undefined && TRANSIENT_CODES.has(code)) || (status !== undefined && (status >= 500 || status === 429 || status === 408))) {
		return new TransientError(`cannot ${action}: the service answered ${code ?? `HTTP ${status}`}, a passing fault; a retry may succeed`, options);
	}
	return new PermanentError(`cannot ${action}: ${code === undefined ? '' : `${code}: `}${detail}`, options);
}

/** The error for a container that does not exist: cairn never creates containers. */
export function describeMissingContainer(context: Pick<AzureErrorContext, 'container' | 'account'>, cause?: unknown): PermanentError {
	return new PermanentError(
		`the container "${context.container}" does not exist in storage account "${context.account}". cairn does not create containers: create it first ` +
			`(e.g. \`az storage container create --name ${context.container} --account-name ${context.account}\` or the portal), then give the credentials ${REQUIRED_AZURE_PERMISSIONS}`,
		cause === undefined ? undefined : {cause},
	);
}
