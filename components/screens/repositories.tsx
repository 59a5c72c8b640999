/**
 * The saved repositories: name, backend and location. Enter asks the password and opens one.
 */
import {useState} from 'react';
import {Box, Text} from 'ink';
import {useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp} from '../ui/screen-frame.js';
import {moveList, readListMove, visibleRange, EMPTY_LIST} from '../state/list.js';
import {describeLocation} from '../session.js';
import {findDefaultRepositoryPath} from '../profiles.js';
import {fitText, truncateStart} from '../format.js';

const HELP: readonly KeyHelp[] = [
	{keys: '↑↓', action: 'move'},
	{keys: 'Enter', action: 'open'},
	{keys: 'a', action: 'add existing'},
	{keys: 'n', action: 'new (quick start)'},
	{keys: 'd', action: 'forget the selected repository (its files stay)', more: true},
];

/** The repositories screen. */
export function RepositoriesScreen() {
	const {profiles, navigate, store, reloadProfiles, env} = useAppContext();
	const {width, height} = useBodySize();
	const [list, setList] = useState(EMPTY_LIST);
	const [confirmForget, setConfirmForget] = useState(false);
	const [message, setMessage] = useState<string>();
	const rows = Math.max(1, height - 3);
	const view = {count: profiles.length, height: rows};
	const selected = profiles[Math.min(list.cursor, profiles.length - 1)];

	useScreenKeys((input, key) => {
		if (confirmForget) {
			if (input === 'y' && selected !== undefined) {
				store.removeProfile(selected.name);
				reloadProfiles();
				setList(EMPTY_LIST);
				setMessage(`Forgot ${selected.name}. Its repository was not touched.`);
			}
			setConfirmForget(false);
			return;
		}
		const move = readListMove(input, key);
		if (move !== undefined) {
			setList(moveList(list, move, view));
			return;
		}
		if ((key.return || key.rightArrow) && selected !== undefined) navigate({type: 'push', route: {name: 'unlock', profile: selected, saveProfile: false}});
		else if (input === 'a') navigate({type: 'push', route: {name: 'add-repository'}});
		else if (input === 'n') {
			const location = `local:${findDefaultRepositoryPath(env)}`;
			if (profiles.some((p) => p.location === location)) setMessage('The quick start repository is already in the list.');
			else navigate({type: 'push', route: {name: 'welcome'}});
		} else if (input === 'd' && selected !== undefined) setConfirmForget(true);
	});

	const {start, end} = visibleRange(list, view);
	const nameWidth = Math.min(20, Math.max(6, ...profiles.map((p) => p.name.length + 2)));
	const backendWidth = 18;
	const locationWidth = Math.max(10, width - nameWidth - backendWidth - 3);
	const status = confirmForget && selected !== undefined
		? {text: `Forget "${selected.name}"? Its backups stay. y = forget, other keys = keep`, tone: 'warning' as const}
		: message !== undefined ? {text: message} : {text: `${profiles.length} saved ${profiles.length === 1 ? 'repository' : 'repositories'}`};
	return (
		<ScreenFrame title="Repositories" help={HELP} status={status}>
			<Box flexDirection="column">
				<Text bold>{'  ' + fitText('Name', nameWidth) + fitText('Type', backendWidth) + 'Location'}</Text>
				{profiles.length === 0 ? (
					<Text>{'  No repository saved. Press n for the quick start or a to add one.'}</Text>
				) : (
					profiles.slice(start, end).map((profile, offset) => {
						const index = start + offset;
						const where = describeLocation(profile.location);
						const current = index === list.cursor;
						return (
							<Text key={profile.name} inverse={current}>
								{(current ? '› ' : '  ') + fitText(profile.name, nameWidth) + fitText(where.backend, backendWidth) + fitText(truncateStart(where.location, locationWidth), locationWidth)}
							</Text>
						);
					})
				)}
			</Box>
		</ScreenFrame>
	);
}
