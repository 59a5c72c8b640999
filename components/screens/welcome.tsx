/**
 * First run: no profile yet. Offers the quick start (a local repository in the data directory)
 * or adding an existing repository; and, when service configs exist for this user, their list
 * (the repository list shows them, each opens its Service screen).
 */
import {useEffect, useState} from 'react';
import {Box, Text} from 'ink';
import {useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp} from '../ui/screen-frame.js';
import {chooseProfileName, findDefaultRepositoryPath} from '../profiles.js';
import {truncateStart} from '../format.js';

const HELP: readonly KeyHelp[] = [
	{keys: '↑↓', action: 'choose'},
	{keys: 'Enter', action: 'continue'},
	{keys: '1 2 3', action: 'choose by number', more: true},
];

/** The welcome screen. */
export function WelcomeScreen() {
	const {env, navigate, profiles, color} = useAppContext();
	const {width} = useBodySize();
	const path = findDefaultRepositoryPath(env);
	const [exists, setExists] = useState<boolean | undefined>(undefined);
	const [problem, setProblem] = useState<string>();
	const [choice, setChoice] = useState(0);
	const [services, setServices] = useState(0);

	// Service configs (cairn service) of this user: a NAS may have one before any saved profile.
	useEffect(() => {
		let live = true;
		import('../service-files.js').then(({discoverServiceConfigs}) => discoverServiceConfigs(env)).then(
			(found) => live && setServices(found.length),
			() => undefined,
		);
		return () => {
			live = false;
		};
	}, [env]);
	const last = services > 0 ? 3 : 2;

	useEffect(() => {
		let live = true;
		// The session module brings in the engine and the adapters: loaded after the first frame.
		import('../session.js').then(({probeRepository}) => probeRepository(`local:${path}`)).then(
			(found) => live && setExists(found),
			(error: unknown) => {
				if (!live) return;
				setExists(false);
				setProblem(error instanceof Error ? error.message : String(error));
			},
		);
		return () => {
			live = false;
		};
	}, [path]);

	useScreenKeys((input, key) => {
		if (key.escape) navigate({type: 'pop'});
		else if (key.upArrow || input === 'k') setChoice(Math.max(0, choice - 1));
		else if (key.downArrow || input === 'j') setChoice(Math.min(last, choice + 1));
		else if (/^[1-4]$/.test(input) && Number(input) - 1 <= last) setChoice(Number(input) - 1);
		else if (key.return) {
			if (choice === 3) navigate({type: 'push', route: {name: 'repositories'}});
			else if (choice === 1) navigate({type: 'push', route: {name: 'add-repository', intent: 'connect'}});
			else if (choice === 2) navigate({type: 'push', route: {name: 'add-repository', intent: 'create'}});
			else if (exists === true) {
				const profile = {name: chooseProfileName(profiles, 'default'), location: `local:${path}`};
				navigate({type: 'push', route: {name: 'unlock', profile, saveProfile: true}});
			} else if (exists === false) navigate({type: 'push', route: {name: 'quick-start'}});
		}
	});

	const first = exists === true ? 'Open the repository found at' : exists === false ? 'Quick start: create a new repository at' : 'Looking for a repository at';
	const options = [
		{title: first, detail: truncateStart(path, width - 6)},
		{title: 'Add an existing repository', detail: 'a directory, server or cloud location you already back up to'},
		{title: 'Create a repository elsewhere', detail: 'another directory or disk, a server (SFTP, WebDAV, REST) or a cloud'},
		...(services > 0 ? [{title: `Service configs (${services} found)`, detail: 'what the unattended service (cairn service) does: state, run now, restore'}] : []),
	];
	return (
		<ScreenFrame title="Welcome" help={profiles.length === 0 ? HELP : [...HELP, {keys: 'Esc', action: 'back'}]} status={problem === undefined ? undefined : {text: problem, tone: 'error'}}>
			<Box flexDirection="column" paddingX={1}>
				<Text bold>{profiles.length === 0 ? 'Welcome to cairn.' : 'A new repository'}</Text>
				<Text>
					{profiles.length === 0
						? 'Backups are kept, encrypted, in a repository (restic compatible). You have none set up yet.'
						: 'Create the quick start repository, or add one that exists already.'}
				</Text>
				<Text> </Text>
				{options.map((option, index) => (
					<Box key={index} flexDirection="column" marginBottom={1}>
						<Text inverse={index === choice} bold={index === choice}>
							{`${index === choice ? '›' : ' '} ${index + 1}. ${option.title}`}
						</Text>
						<Text color={color ? 'cyan' : undefined}>{'     ' + option.detail}</Text>
					</Box>
				))}
				<Text dimColor>Press Enter to continue. The password is asked next and is never saved.</Text>
			</Box>
		</ScreenFrame>
	);
}
