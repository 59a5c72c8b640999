import {Repository} from '../../engine/repository/repository.js';
import {UsageError} from '../../engine/errors.js';
import {openStorage, printJson, readRepositoryOptions, type GlobalFlags} from '../cli/context.js';
import {resolvePassword} from '../cli/password.js';

/** `cairn init`: creates a repository (format version 2 unless --repository-version 1). */
export async function runInit(flags: GlobalFlags & {repositoryVersion?: string}): Promise<number> {
	const version = flags.repositoryVersion === undefined || flags.repositoryVersion === 'latest' || flags.repositoryVersion === 'stable' ? 2 : Number(flags.repositoryVersion);
	if (version !== 1 && version !== 2) throw new UsageError(`invalid --repository-version ${JSON.stringify(flags.repositoryVersion)}: use 1 or 2`);
	const storage = await openStorage(flags);
	try {
		const password = await resolvePassword(flags, {confirm: true, prompt: 'enter password for new repository: '});
		const repo = await Repository.init(storage, password, {...readRepositoryOptions(flags), version});
		if (flags.json) printJson({message_type: 'initialized', id: repo.config.id, repository: storage.location, version});
		else if (!flags.quiet) {
			process.stdout.write(`created cairn repository ${repo.config.id.slice(0, 10)} (format version ${version}) at ${storage.location}\n\n`);
			process.stdout.write('Please note that knowledge of your password is required to access\nthe repository. Losing your password means that your data is\nirrecoverably lost.\n');
		}
		return 0;
	} finally {
		await storage.close();
	}
}
