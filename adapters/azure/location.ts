/**
 * Azure locations, as restic writes them: `azure:CONTAINER:/PREFIX` (also `azure:CONTAINER` and
 * `azure:CONTAINER:/` for the container's root).
 */

/** Container names Azure accepts: 3–63 lowercase letters, digits and single hyphens, starting with a letter or digit. */
const CONTAINER_PATTERN = /^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$/;

/** Parses the part of a location after `azure:`; throws an Error saying what is wrong. */
export function parseAzureLocation(rest: string): {container?: string; prefix?: string} {
	const text = rest.trim();
	if (text === '') return {};
	const colon = text.indexOf(':');
	const container = colon < 0 ? text : text.slice(0, colon);
	const path = colon < 0 ? '' : text.slice(colon + 1);
	if (container.includes('/')) throw new Error(`"${container}" is not a container name: write azure:CONTAINER:/PREFIX, e.g. azure:backups:/laptop`);
	if (!CONTAINER_PATTERN.test(container)) {
		throw new Error(`"${container}" is not a valid container name (3 to 63 lowercase letters, digits and single hyphens)`);
	}
	const prefix = cleanAzurePrefix(path);
	return prefix === undefined ? {container} : {container, prefix};
}

/** Writes the location back; the inverse of {@link parseAzureLocation}. */
export function formatAzureLocation(values: Readonly<Record<string, string | undefined>>): string {
	const prefix = cleanAzurePrefix(values['prefix'] ?? '');
	return `${values['container'] ?? ''}:/${prefix ?? ''}`;
}

/** Removes leading, trailing and doubled slashes and `.` parts; undefined when nothing is left. Refuses `..`. */
export function cleanAzurePrefix(prefix: string): string | undefined {
	const parts = prefix.split('/').filter((part) => part !== '' && part !== '.');
	if (parts.includes('..')) throw new Error(`the prefix "${prefix}" must not contain ".."`);
	return parts.length === 0 ? undefined : parts.join('/');
}
