/**
 * The scriptable command line: argument parsing and dispatch, exit codes as restic's.
 */
import {Command, CommanderError, Option} from 'commander';
import {CairnError, IntegrityError} from '../engine/errors.js';
import {StorageError} from '../adapters/storage.js';
import {describeVersion} from '../engine/version.js';
import {MEMORY_LIMIT_ENV, parseMemorySize} from '../engine/util/memory-budget.js';

function collect(value: string, previous: string[] = []): string[] {
	return [...previous, value];
}

type Action = (signal: AbortSignal, command: Command) => Promise<number>;

/** Exit code when standard output was closed by its reader (`cairn ls ... | head`): 128 + SIGPIPE, as a shell reports a process SIGPIPE ended. */
export const EXIT_OUTPUT_CLOSED = 141;

/** Where errors of standard output go while a command runs (see {@link runAction}). */
let onOutputError: ((error: NodeJS.ErrnoException) => void) | undefined;
let outputGuarded = false;

/**
 * Listens for errors of standard output once per process. While a command runs they go to it;
 * after it (writes still queued when it returned), a closed output only sets the exit code, and
 * another error is reported: never an unhandled 'error' event with a stack trace.
 */
function guardStandardOutput(): void {
	if (outputGuarded) return;
	outputGuarded = true;
	process.stdout.on('error', (error: NodeJS.ErrnoException) => {
		if (onOutputError) onOutputError(error);
		else if (error.code === 'EPIPE') process.exitCode = EXIT_OUTPUT_CLOSED;
		else process.exitCode = reportError(new CairnError(`cannot write to standard output: ${error.message}`));
	});
}

/**
 * Checks `--max-memory` (or CAIRN_MAX_MEMORY) and hands it to the memory budget through the
 * environment, where worker threads started later see it too. Throws on an invalid size.
 */
function applyMemoryLimit(flag: string | undefined): void {
	const text = flag ?? process.env[MEMORY_LIMIT_ENV];
	if (text === undefined || text === '') return;
	process.env[MEMORY_LIMIT_ENV] = String(parseMemorySize(text, flag === undefined ? MEMORY_LIMIT_ENV : '--max-memory'));
}

/**
 * Runs an action with Ctrl-C wired to cancellation; resolves with the exit code. When the reader
 * of standard output goes away (EPIPE, e.g. `cairn ls latest | head`), the action is cancelled the
 * same way (a backup stops cleanly and releases its lock: no snapshot, nothing half-written) and
 * the exit code is {@link EXIT_OUTPUT_CLOSED}, without a message; other write errors on standard
 * output cancel it with a message.
 */
async function runAction(action: Action, command: Command): Promise<number> {
	const controller = new AbortController();
	let outputClosed = false;
	let outputError: CairnError | undefined;
	const onStdoutError = (error: NodeJS.ErrnoException): void => {
		if (error.code === 'EPIPE') outputClosed = true;
		else outputError ??= new CairnError(`cannot write to standard output: ${error.message}`);
		controller.abort(new Error('standard output was closed'));
	};
	guardStandardOutput();
	onOutputError = onStdoutError;
	let interrupts = 0;
	const onSigint = (): void => {
		interrupts++;
		if (interrupts === 1) {
			process.stderr.write('\ninterrupted: stopping cleanly (press Ctrl-C again to quit at once)\n');
			controller.abort(new Error('interrupted'));
		} else {
			process.exit(130);
		}
	};
	// restic probes the holder of a lock on the same host with SIGHUP; like restic, keep running.
	const onSighup = (): void => undefined;
	// Libraries may hook these signals and re-raise them at once (when-exit, loaded through conf
	// when a command module is imported), which would end cairn before it releases its lock and
	// indexes what it uploaded. While a command runs, only cairn's handlers answer them: listeners
	// present now are set aside, and ones added later are removed as soon as they are added.
	const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
	const foreign = signals.flatMap((name) => process.rawListeners(name).map((listener) => [name, listener as (...args: unknown[]) => void] as const));
	for (const [name, listener] of foreign) process.off(name, listener);
	const onNewListener = (event: string | symbol, listener: (...args: unknown[]) => void): void => {
		if ((signals as readonly (string | symbol)[]).includes(event) && listener !== onSigint && listener !== onSighup) {
			queueMicrotask(() => process.off(event as NodeJS.Signals, listener));
		}
	};
	process.on('newListener', onNewListener);
	process.on('SIGINT', onSigint);
	process.on('SIGTERM', onSigint);
	process.on('SIGHUP', onSighup);
	try {
		const code = await action(controller.signal, command);
		if (outputClosed) return EXIT_OUTPUT_CLOSED;
		return outputError ? reportError(outputError) : code;
	} catch (error) {
		if (outputClosed) return EXIT_OUTPUT_CLOSED;
		return outputError ? reportError(outputError) : reportError(error, controller.signal.aborted);
	} finally {
		onOutputError = undefined;
		process.off('SIGINT', onSigint);
		process.off('SIGTERM', onSigint);
		process.off('SIGHUP', onSighup);
		process.off('newListener', onNewListener);
		for (const [name, listener] of foreign) process.on(name, listener);
	}
}

/** Prints an error for a person and returns the exit code. */
export function reportError(error: unknown, interrupted = false): number {
	if (interrupted) {
		process.stderr.write(`${error instanceof CairnError ? error.message : 'interrupted'}\n`);
		return 130;
	}
	if (error instanceof IntegrityError) {
		process.stderr.write(`Fatal: ${error.message}\nThe repository is damaged: run \`cairn check --read-data\` for a full report of what is affected.\n`);
		return error.exitCode;
	}
	if (error instanceof CairnError) {
		process.stderr.write(`Fatal: ${error.message}\n`);
		return error.exitCode;
	}
	if (error instanceof StorageError) {
		process.stderr.write(`Fatal: ${error.message}\n`);
		return 1;
	}
	const message = error instanceof Error ? error.message : String(error);
	process.stderr.write(`Fatal: ${message}\n`);
	if (process.env.CAIRN_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
	return 1;
}

/** Builds the commander program. `setExit` receives each command's exit code. */
export function buildProgram(setExit: (code: number) => void): Command {
	const program = new Command();
	program
		.name('cairn')
		.description('Encrypted, deduplicated backups in restic-compatible repositories. Run without arguments for the full-screen app.')
		.version(describeVersion(), '-V, --version', 'print the version of cairn, the commit it was built from, and the Node.js version it runs on')
		.option('-r, --repo <location>', 'repository location (or CAIRN_REPOSITORY): a path, local:PATH, ...')
		.option('--password-file <file>', 'read the password from a file (or CAIRN_PASSWORD_FILE)')
		.option('--password-command <command>', 'run a command that prints the password (or CAIRN_PASSWORD_COMMAND)')
		.option('-o, --option <key=value>', 'backend option, e.g. -o local.path=/srv (repeatable)', collect)
		.option('--profile <name>', 'use a repository profile saved by the app (location, options, password file or command)')
		.option('--compression <mode>', 'compression of new data: off, auto or max (default auto)')
		.option('--pack-size <MiB>', 'target pack size in MiB (default 16)')
		.option('--cache-dir <dir>', 'directory of the local cache (or CAIRN_CACHE_DIR; default $XDG_CACHE_HOME/cairn or ~/.cache/cairn)')
		.option('--no-cache', 'do not use the local cache of index files, snapshots and tree packs')
		.option('--limit-upload <KiB/s>', 'limit uploads to the repository to this many KiB/s (or CAIRN_LIMIT_UPLOAD)')
		.option('--limit-download <KiB/s>', 'limit downloads from the repository to this many KiB/s (or CAIRN_LIMIT_DOWNLOAD)')
		.option('--max-memory <size>', 'memory a backup or restore may plan for, e.g. 512M or 2G (or CAIRN_MAX_MEMORY; default the machine\'s RAM): sizes workers and buffers')
		.option('--json', 'print machine-readable JSON')
		.option('-q, --quiet', 'print less')
		.showHelpAfterError()
		.exitOverride();

	const register = (command: Command, action: (args: string[], flags: Record<string, unknown>, signal: AbortSignal) => Promise<number>): void => {
		command.exitOverride().action(async (...params: unknown[]) => {
			const cmd = params.at(-1) as Command;
			const args = cmd.args;
			const flags = cmd.optsWithGlobals();
			setExit(await runAction((signal) => {
				applyMemoryLimit(flags.maxMemory as string | undefined);
				return action(args, flags, signal);
			}, cmd));
		});
	};

	register(program.command('init').description('create a new repository')
		.option('--repository-version <version>', 'repository format version: 2 (default) or 1'),
	async (_args, flags) => (await import('./commands/init.js')).runInit(flags));

	register(program.command('backup').description('back up files and directories into a new snapshot')
		.argument('[paths...]', 'files and directories to back up')
		.option('-e, --exclude <glob>', 'exclude paths matching the pattern (repeatable)', collect)
		.option('--exclude-file <file>', 'read exclude patterns from a file (repeatable)', collect)
		.option('--tag <tag>', 'add a tag to the snapshot (repeatable, or comma separated)', collect)
		.option('--host <hostname>', 'hostname recorded in the snapshot')
		.option('--time <time>', 'snapshot time instead of now, as "YYYY-MM-DD HH:MM:SS"')
		.option('--parent <snapshot>', 'compare against this snapshot instead of the latest one')
		.option('-f, --force', 'read every file, ignoring the parent snapshot')
		.option('--iexclude <glob>', 'same as --exclude but ignores the case of names (repeatable)', collect)
		.option('--iexclude-file <file>', 'same as --exclude-file but ignores the case of names (repeatable)', collect)
		.option('--exclude-caches', 'exclude the contents of directories holding a CACHEDIR.TAG file with the standard signature')
		.option('--exclude-if-present <file[:header]>', 'exclude the contents of directories holding this file (starting with header, when given; repeatable)', collect)
		.option('--exclude-larger-than <size>', 'exclude files larger than size (suffix k, m, g or t; e.g. 500M)')
		.option('-x, --one-file-system', 'do not cross file system boundaries (mount points are kept as empty directories)')
		.option('--files-from <file>', 'back up the paths or globs listed in file, one a line (repeatable; - reads stdin)', collect)
		.option('--files-from-verbatim <file>', 'back up the paths listed in file, one a line, taken literally (repeatable)', collect)
		.option('--files-from-raw <file>', 'back up the NUL-terminated paths listed in file (repeatable)', collect)
		.option('--stdin', 'back up the data read from standard input as one file')
		.option('--stdin-filename <name>', 'with --stdin: the file name in the snapshot (default stdin)')
		.option('-n, --dry-run', 'read everything and report what would be added, but write nothing to the repository'),
	async (args, flags, signal) => (await import('./commands/backup.js')).runBackupCommand(args, flags, signal));

	register(program.command('snapshots').description('list snapshots')
		.option('--host <host>', 'only snapshots of this host (repeatable)', collect)
		.option('--tag <tags>', 'only snapshots with these tags (repeatable; a,b means both)', collect)
		.option('--path <path>', 'only snapshots including this path (repeatable)', collect),
	async (_args, flags, signal) => (await import('./commands/snapshots.js')).runSnapshots(flags, signal));

	register(program.command('ls').description('list files in a snapshot')
		.argument('<snapshot>', 'snapshot ID, unique prefix, or latest')
		.argument('[path]', 'directory inside the snapshot to list')
		.option('-l, --long', 'show mode, owner, size and time')
		.option('--recursive', 'with PATH, list everything below it'),
	async (args, flags, signal) => (await import('./commands/ls.js')).runLs(args[0]!, args[1], flags, signal));

	register(program.command('restore').description('restore a snapshot into a directory')
		.argument('<snapshot>', 'snapshot ID, unique prefix, or latest')
		.option('-t, --target <dir>', 'directory to restore into')
		.option('-i, --include <pattern>', 'restore only what matches pattern, e.g. /home/me/docs or *.pdf (repeatable)', collect)
		.option('--iinclude <pattern>', 'same as --include but ignores the case of names (repeatable)', collect)
		.option('-e, --exclude <pattern>', 'restore everything but what matches pattern (repeatable)', collect)
		.option('--iexclude <pattern>', 'same as --exclude but ignores the case of names (repeatable)', collect)
		.option('--verify', 'read the restored files back and check them against the snapshot')
		.addOption(new Option('--overwrite <mode>', 'existing files: never (default), if-changed or always').choices(['never', 'if-changed', 'always']))
		.option('--thaw', 'first thaw the packs held in cold storage (S3 Glacier, Azure Archive) and wait until they are readable')
		.option('--thaw-poll <seconds>', 'with --thaw: seconds between status checks (default 600)')
		.option('--no-wait', 'with --thaw: request the thaws, show their status and exit instead of waiting'),
	async (args, flags, signal) => (await import('./commands/restore.js')).runRestoreCommand(args[0]!, flags, signal));

	register(program.command('check').description('check the repository for errors')
		.option('--read-data', 'read and verify all data')
		.option('--read-data-subset <subset>', 'read and verify a part of the data: N/M or P%'),
	async (_args, flags, signal) => (await import('./commands/check.js')).runCheckCommand(flags, signal));

	register(program.command('key').description('manage the keys (passwords) of a repository')
		.argument('<action>', 'list, add, remove or passwd')
		.argument('[id]', 'key ID for remove')
		.option('--new-password-file <file>', 'read the new password from a file (or CAIRN_NEW_PASSWORD)')
		.option('--host <hostname>', 'hostname recorded in the new key')
		.option('--user <username>', 'username recorded in the new key'),
	async (args, flags, signal) => (await import('./commands/key.js')).runKey(args[0]!, args[1], flags, signal));

	register(program.command('unlock').description('remove stale locks')
		.option('--remove-all', 'remove every lock, even live ones'),
	async (_args, flags, signal) => (await import('./commands/unlock.js')).runUnlock(flags, signal));

	register(program.command('prune').description('remove data that no snapshot needs (repacking partly used packs)')
		.option('-n, --dry-run', 'only report what would be removed and how much space that frees')
		.option('--max-unused <percent>', 'unused space to tolerate after the prune, in percent (default 5)'),
	async (_args, flags, signal) => (await import('./commands/prune.js')).runPruneCommand(flags, signal));

	register(program.command('forget').description('remove snapshots by a retention policy (or by ID); their data stays until `cairn prune`')
		.argument('[snapshots...]', 'remove these snapshots (ID or unique prefix) instead of applying a policy')
		.option('--keep-latest <n>', 'keep the last n snapshots (alias --keep-last; "unlimited" keeps all)')
		.option('--keep-last <n>', 'same as --keep-latest')
		.option('--keep-hourly <n>', 'keep the newest snapshot of each of the last n hours with snapshots')
		.option('--keep-daily <n>', 'keep the newest snapshot of each of the last n days with snapshots')
		.option('--keep-weekly <n>', 'keep the newest snapshot of each of the last n ISO weeks with snapshots')
		.option('--keep-monthly <n>', 'keep the newest snapshot of each of the last n months with snapshots')
		.option('--keep-annual <n>', 'keep the newest snapshot of each of the last n years with snapshots (alias --keep-yearly)')
		.option('--keep-yearly <n>', 'same as --keep-annual')
		.option('--keep-within <duration>', 'keep every snapshot newer than the duration (e.g. 30d, 1y2m, 2y5m7d3h) before the newest one')
		.option('--keep-within-hourly <duration>', 'keep the newest snapshot of each hour within the duration')
		.option('--keep-within-daily <duration>', 'keep the newest snapshot of each day within the duration')
		.option('--keep-within-weekly <duration>', 'keep the newest snapshot of each ISO week within the duration')
		.option('--keep-within-monthly <duration>', 'keep the newest snapshot of each month within the duration')
		.option('--keep-within-annual <duration>', 'keep the newest snapshot of each year within the duration (alias --keep-within-yearly)')
		.option('--keep-within-yearly <duration>', 'same as --keep-within-annual')
		.option('--keep-tag <tags>', 'keep snapshots with all of these tags, a,b (repeatable: any of the lists)', collect)
		.option('--group-by <fields>', 'apply the policy per group of host, paths and/or tags (comma separated; \'\' for one group)', 'host,paths')
		.option('--host <host>', 'only consider snapshots of this host (repeatable)', collect)
		.option('--tag <tags>', 'only consider snapshots with these tags (repeatable; a,b means both)', collect)
		.option('--path <path>', 'only consider snapshots including this path (repeatable)', collect)
		.option('-n, --dry-run', 'show what would be removed, change nothing')
		.option('--prune', 'prune the repository afterwards when snapshots were removed')
		.option('--max-unused <percent>', 'with --prune: unused space to tolerate in packs (default 5%)'),
	async (args, flags, signal) => (await import('./commands/forget.js')).runForgetCommand(args, flags, signal));

	register(program.command('storageconfig').description('show or set the storage class of each kind of file (.storageconfig; S3, Azure, GCS)')
		.argument('<action>', 'show or set')
		.argument('[json]', 'for set: the file\'s JSON, e.g. \'{"blobOptions":[{"prefix":"data/","storageClass":"STANDARD_IA"}]}\'')
		.option('--file <file>', 'for set: read the JSON from a file')
		.option('--data <class>', 'for set: class of data/ (the packs)')
		.option('--index <class>', 'for set: class of index/')
		.option('--snapshots <class>', 'for set: class of snapshots/')
		.option('--default <class>', 'for set: class of everything no other rule covers')
		.option('--clear', 'for set: remove the file (new objects get the store\'s default class)')
		.option('--force', 'for set: accept rules that put files other than data/ into a class that needs a thaw'),
	async (args, flags, signal) => (await import('./commands/storageconfig.js')).runStorageConfig(args[0]!, args[1], flags, signal));

	register(program.command('thaw').description('make packs in cold storage (S3 Glacier, Azure Archive) readable: for a snapshot, the trees, or all')
		.argument('[snapshot]', 'thaw what restoring this snapshot reads (ID, unique prefix, or latest)')
		.option('-i, --include <path>', 'with a snapshot: only what restoring this path reads (repeatable)', collect)
		.option('--trees', 'thaw every pack holding directory trees (read by ls, check, prune and incremental backups)')
		.option('--all', 'thaw every pack (read by check --read-data)')
		.option('--thaw-poll <seconds>', 'seconds between status checks (default 600)')
		.option('--no-wait', 'request the thaws, show their status and exit instead of waiting'),
	async (args, flags, signal) => (await import('./commands/thaw.js')).runThawCommand(args[0], flags, signal));

	register(program.command('retention').description('object lock: extend the retention of every file the snapshots still need')
		.argument('<action>', 'extend')
		.option('--period <duration>', 'lock for this long from now, e.g. 30d, 12w, 1y (default: -o s3.retention-period)')
		.option('--until <date>', 'lock until this date, e.g. 2030-01-31'),
	async (args, flags, signal) => (await import('./commands/retention.js')).runRetention(args[0]!, flags, signal));

	// Repository-changing commands of issue 12 (tag, copy, repair, migrate, rewrite).
	const addSnapshotFilters = (command: Command, what = 'consider'): Command => command
		.option('-H, --host <host>', `only ${what} snapshots of this host, when no snapshot ID is given (repeatable)`, collect)
		.option('--tag <taglist>', `only ${what} snapshots with these tags, a,b means both, when no snapshot ID is given (repeatable)`, collect)
		.option('--path <path>', `only ${what} snapshots including this (absolute) path, when no snapshot ID is given (repeatable)`, collect);

	register(addSnapshotFilters(program.command('tag').description('modify tags on snapshots (a new snapshot file replaces each changed one)')
		.argument('[snapshots...]', 'snapshot IDs (or unique prefixes, or latest); default: all snapshots passing the filters')
		.option('--set <tags>', 'tags which replace the existing tags, tag[,tag,...] (repeatable; --set "" removes all)', collect)
		.option('--add <tags>', 'tags added to the existing tags, tag[,tag,...] (repeatable)', collect)
		.option('--remove <tags>', 'tags removed from the existing tags, tag[,tag,...] (repeatable)', collect)),
	async (args, flags, signal) => (await import('./commands/tag.js')).runTagCommand(args, flags, signal));

	register(addSnapshotFilters(program.command('copy').description('copy snapshots from another repository (--from-repo) into this one, uploading only what it lacks')
		.argument('[snapshots...]', 'source snapshot IDs (or unique prefixes, or latest); default: all snapshots passing the filters')
		.option('--from-repo <location>', 'source repository to copy snapshots from (or CAIRN_FROM_REPOSITORY / RESTIC_FROM_REPOSITORY)')
		.option('--from-repository-file <file>', 'read the source repository location from a file (or CAIRN_FROM_REPOSITORY_FILE)')
		.option('--from-password-file <file>', 'read the source repository password from a file (or CAIRN_FROM_PASSWORD_FILE)')
		.option('--from-password-command <command>', 'run a command that prints the source repository password (or CAIRN_FROM_PASSWORD_COMMAND)')
		.option('--from-option <key=value>', 'backend option of the source repository (repeatable)', collect)
		.option('--from-profile <name>', 'use a repository profile saved by the app as the source')),
	async (args, flags, signal) => (await import('./commands/copy.js')).runCopyCommand(args, flags, signal));

	const repair = program.command('repair').description('repair a damaged repository: index, snapshots or packs');
	const addRepairIndex = (command: Command): void => register(command
		.option('--read-all-packs', 'read all pack files to generate a new index from scratch'),
	async (_args, flags, signal) => (await import('./commands/repair-index.js')).runRepairIndexCommand(flags, signal));
	addRepairIndex(repair.command('index').description('build a new index from the pack files'));
	addRepairIndex(program.command('rebuild-index').description('build a new index from the pack files (same as `repair index`)'));
	register(addSnapshotFilters(repair.command('snapshots').description('rewrite snapshots so they no longer refer to missing data')
		.argument('[snapshots...]', 'snapshot IDs (or unique prefixes, or latest); default: all snapshots passing the filters')
		.option('--forget', 'remove the original snapshots after creating new ones')
		.option('-n, --dry-run', 'do not do anything, just print what would be done')),
	async (args, flags, signal) => (await import('./commands/repair-snapshots.js')).runRepairSnapshotsCommand(args, flags, signal));
	register(repair.command('packs').description('salvage the intact blobs of damaged pack files, then remove those packs')
		.argument('[packs...]', 'IDs of the damaged pack files'),
	async (args, flags, signal) => (await import('./commands/repair-packs.js')).runRepairPacksCommand(args, flags, signal));

	register(program.command('migrate').description('list the migrations that apply, or apply the named ones (upgrade_repo_v2)')
		.argument('[names...]', 'migrations to apply')
		.option('-f, --force', 'apply a migration even when its check fails'),
	async (args, flags, signal) => (await import('./commands/migrate.js')).runMigrateCommand(args, flags, signal));

	register(addSnapshotFilters(program.command('rewrite').description('create new snapshots without the files matching exclude patterns')
		.argument('[snapshots...]', 'snapshot IDs (or unique prefixes, or latest); default: all snapshots passing the filters')
		.option('-e, --exclude <pattern>', 'exclude paths matching the pattern (repeatable)', collect)
		.option('--exclude-file <file>', 'read exclude patterns from a file (repeatable)', collect)
		.option('--iexclude <pattern>', 'same as --exclude but ignores the case of paths (repeatable)', collect)
		.option('--iexclude-file <file>', 'same as --exclude-file but ignores the case of paths (repeatable)', collect)
		.option('--forget', 'remove the original snapshots after creating new ones')
		.option('-n, --dry-run', 'do not do anything, just print what would be done')),
	async (args, flags, signal) => (await import('./commands/rewrite.js')).runRewriteCommand(args, flags, signal));

	// `cairn service …` (source/service.ts): cli.tsx hands it over before this parser runs; this entry lists it in --help.
	program.command('service').description('the unattended service: run on a schedule, run --once, status, install (see docs/service.md)')
		.argument('[args...]', 'run [--once] [--force] | status [--json] | install [--systemd|--cron] [--dry-run], with --config FILE')
		.helpOption(false).allowUnknownOption()
		.action(async (args: string[]) => {
			setExit(await (await import('./service.js')).runService(args));
		});

	register(program.command('version').description('print the version, the commit, the Node.js version and what this cairn runs on (zstd, WebAssembly kernels)'),
	async (_args, flags) => (await import('./commands/version.js')).runVersion(flags));

	// Read-only restic commands (issue 12): diff, find, dump, stats, cat, list, generate, cache.
	const filterOptions = (command: Command, what: string): Command => command
		.option('-H, --host <host>', `only consider snapshots of this host${what} (repeatable)`, collect)
		.option('--tag <taglist>', `only consider snapshots with these tags, a,b means both${what} (repeatable)`, collect)
		.option('--path <path>', `only consider snapshots including this (absolute) path${what} (repeatable)`, collect);
	const noLock = (command: Command): Command => command.option('--no-lock', 'do not lock the repository (for read-only storage)');

	register(noLock(program.command('diff').description('show differences between two snapshots')
		.argument('[snapshots...]', 'the two snapshots to compare (ID or unique prefix), first the older one')
		.option('--metadata', 'print changes in metadata')),
	async (args, flags, signal) => (await import('./commands/diff.js')).runDiff(args, flags, signal));

	register(noLock(filterOptions(program.command('find').description('find a file, a directory or restic IDs')
		.argument('[pattern...]', 'patterns to search for (or IDs with --blob, --tree, --pack)')
		.option('-O, --oldest <time>', 'oldest modification date/time')
		.option('-N, --newest <time>', 'newest modification date/time')
		.option('-s, --snapshot <id>', 'snapshot ID to search in (repeatable)', collect)
		.option('--blob', 'pattern is a blob-ID')
		.option('--tree', 'pattern is a tree-ID')
		.option('--pack', 'pattern is a pack-ID')
		.option('--show-pack-id', 'display the pack-ID the blobs belong to (with --blob or --tree)')
		.option('-i, --ignore-case', 'ignore case for pattern')
		.option('-l, --long', 'use a long listing format showing size and mode'), ', when no snapshot ID is given')),
	async (args, flags, signal) => (await import('./commands/find.js')).runFind(args, flags, signal));

	register(noLock(filterOptions(program.command('dump').description('print a backed-up file to stdout (a directory as a tar or zip archive)')
		.argument('[snapshot]', 'snapshot ID, unique prefix, or latest')
		.argument('[path]', 'file or directory in the snapshot ("/" for all of it)')
		.option('-a, --archive <format>', 'archive format for directories: tar or zip', 'tar')
		.option('-t, --target <file>', 'write the output to this file instead of stdout'), ' for snapshot ID "latest"')),
	async (args, flags, signal) => (await import('./commands/dump.js')).runDump(args, flags, signal));

	register(noLock(filterOptions(program.command('stats').description('scan the repository and show basic statistics')
		.argument('[snapshots...]', 'snapshot IDs (default: all snapshots matching the filters)')
		.option('--mode <mode>', 'counting mode: restore-size, files-by-contents, blobs-per-file or raw-data', 'restore-size'), '')),
	async (args, flags, signal) => (await import('./commands/stats.js')).runStats(args, flags, signal));

	register(noLock(program.command('cat').description('print internal objects to stdout')
		.argument('[type]', 'config, index, snapshot, key, masterkey, lock, pack, blob or tree')
		.argument('[id]', 'object ID (for tree: a tree ID or snapshot[:subfolder])')),
	async (args, flags, signal) => (await import('./commands/cat.js')).runCat(args, flags, signal));

	register(noLock(program.command('list').description('list objects in the repository')
		.argument('[type]', 'blobs, packs, index, snapshots, keys or locks')),
	async (args, flags, signal) => (await import('./commands/list.js')).runList(args, flags, signal));

	register(program.command('generate').description('generate shell completion scripts and man pages')
		.option('--bash-completion <file>', 'write a bash completion script to this file ("-" for stdout)')
		.option('--zsh-completion <file>', 'write a zsh completion script to this file ("-" for stdout)')
		.option('--fish-completion <file>', 'write a fish completion script to this file ("-" for stdout)')
		.option('--man <directory>', 'write man pages to this directory'),
	async (_args, flags) => (await import('./commands/generate.js')).runGenerate(program, flags));

	register(program.command('cache').description('list and clean up the local cache directories')
		.option('--cleanup', 'remove old cache directories')
		.option('--max-age <days>', 'max age in days for cache directories to be considered old (default 30)')
		.option('--no-size', 'do not output the size of the cache directories'),
	async (args, flags) => (await import('./commands/cache.js')).runCache(args, flags));

	return program;
}

/** Parses argv and runs the command; resolves with the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
	let exitCode = 0;
	const program = buildProgram((code) => {
		exitCode = code;
	});
	try {
		await program.parseAsync(argv, {from: 'user'});
	} catch (error) {
		if (error instanceof CommanderError) {
			if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
			return 2;
		}
		return reportError(error);
	}
	return exitCode;
}
