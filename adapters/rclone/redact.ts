/**
 * rclone remotes can carry credentials inline (connection strings such as
 * `:s3,access_key_id=…,secret_access_key=…:bucket/repo`). Their values are hidden before a remote,
 * or rclone's own messages that may quote it, reach the user.
 */

/** A `,name=value` or `:name=value` parameter whose name suggests a secret. */
const SECRET_PARAMETER = /([,:]\s*)([A-Za-z0-9_-]*(?:pass|secret|key|token|auth|credential|sas)[A-Za-z0-9_-]*)(\s*=\s*)("[^"]*"|'[^']*'|[^,:\s"']*)/gi;

/** Replaces the values of secret-looking connection-string parameters with `***`. */
export function redactRcloneSecrets(text: string): string {
	return text.replace(SECRET_PARAMETER, '$1$2$3***');
}
