/**
 * `cairn migrate [NAME...]`: lists the migrations that apply, or applies the named ones after a
 * repository check (restic's `migrate`). Exclusive lock.
 */
import {runCheck} from '../../engine/checker/checker.js';
import {CairnError} from '../../engine/errors.js';
import {findMigration, MIGRATIONS} from '../../engine/maintenance/migrate.js';
import {acquireLock} from '../../engine/repository/lock.js';
import {openRepository, type GlobalFlags} from '../cli/context.js';

/** Flags of `cairn migrate`. */
export interface MigrateFlags extends GlobalFlags {
	force?: boolean;
}

/** `cairn migrate [NAME...]`. */
export async function runMigrateCommand(names: string[], flags: MigrateFlags, signal: AbortSignal): Promise<number> {
	const print = (text: string): void => {
		if (!flags.quiet) process.stdout.write(text);
	};
	const repo = await openRepository(flags, signal, {cache: false});
	try {
		const lock = await acquireLock(repo, {exclusive: true, signal});
		try {
			if (names.length === 0) {
				print('available migrations:\n');
				const available = MIGRATIONS.filter((m) => m.check(repo));
				for (const m of available) print(`  ${m.name}\t${m.description}\n`);
				if (available.length === 0) print('no migrations found\n');
				return 0;
			}
			let failed: Error | undefined;
			for (const name of names) {
				const migration = findMigration(name);
				if (!migration) throw new CairnError(`unknown migration ${JSON.stringify(name)}: run \`cairn migrate\` to list the ones that apply (known: ${MIGRATIONS.map((m) => m.name).join(', ')})`);
				if (!migration.check(repo)) {
					if (!flags.force) {
						process.stderr.write(`migration ${name} cannot be applied: check failed\nIf you want to apply this migration anyway, re-run with option --force\n`);
						continue;
					}
					process.stderr.write(`check for migration ${name} failed, continuing anyway\n`);
				}
				if (migration.needsRepositoryCheck) {
					print('checking repository integrity...\n');
					const report = await runCheck(repo, {noLock: true, signal, onProblem: (p) => {
						if (p.severity === 'error') process.stderr.write(`error: ${p.file}: ${p.message}\n`);
					}});
					if (!report.ok) throw new CairnError('the repository check found errors, so the migration was not applied: repair the repository first (see `cairn check`)');
					print('no errors were found\n');
				}
				print(`applying migration ${name}...\n`);
				try {
					await migration.apply(repo, signal);
					print(`migration ${name}: success\n`);
				} catch (error) {
					process.stderr.write(`migration ${name} failed: ${(error as Error).message}\n`);
					failed ??= error as Error;
				}
			}
			if (failed) throw failed;
			return 0;
		} finally {
			await lock.release();
		}
	} finally {
		await repo.close();
	}
}
