/**
 * The saved repositories: name, backend, location and the last backup when known.
 * Enter opens one; profiles can be added, created, edited, renamed and removed (the repository
 * itself is never touched by removing its profile). Below them, the service configs found for
 * this user (see service-files.ts): Enter opens the Service screen of one.
 */
import {useEffect, useState, type ReactNode} from 'react';
import {Box, Text} from 'ink';
import {useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp, type StatusMessage} from '../ui/screen-frame.js';
import {editText} from '../ui/text-field.js';
import {moveList, readListMove, visibleRange, EMPTY_LIST} from '../state/list.js';
import {describeLocation} from '../session.js';
import {checkProfileName, type Profile} from '../profiles.js';
import {fitText, formatRelativeTime, truncateStart} from '../format.js';
import {discoverServiceConfigs, type ServiceConfigEntry} from '../service-files.js';

const HELP: readonly KeyHelp[] = [
	{keys: '↑↓', action: 'move'},
	{keys: 'Enter', action: 'open'},
	{keys: 'a', action: 'add'},
	{keys: 'n', action: 'new'},
	{keys: 'e', action: 'edit'},
	{keys: 'r', action: 'rename'},
	{keys: 'd', action: 'remove'},
	{keys: 'a', action: 'add an existing repository (any backend)', more: true},
	{keys: 'n', action: 'create a new repository (quick start or any backend)', more: true},
	{keys: 'e', action: 'edit the selected profile: backend settings, password source, options', more: true},
	{keys: 'r', action: 'rename the selected profile', more: true},
	{keys: 'd', action: 'remove the selected profile (the repository and its backups stay)', more: true},
	{keys: 'Enter', action: 'on a service config: open its Service screen (state, run now, restore in place)', more: true},
];

/** When a service config's last backup was, for the list. */
export function describeServiceLastBackup(entry: ServiceConfigEntry, now: number = Date.now()): string {
	if (entry.error !== undefined) return 'invalid';
	if (entry.lastBackup === undefined) return '—';
	const date = new Date(entry.lastBackup);
	return Number.isNaN(date.getTime()) ? '—' : formatRelativeTime(date, now);
}

/** The column widths of the list for a width. */
export function layoutRepositoryColumns(width: number, profiles: readonly Profile[]): {name: number; backend: number; location: number; last: number} {
	const name = Math.min(20, Math.max(6, ...profiles.map((p) => p.name.length + 2)));
	const backend = width >= 100 ? 26 : 17;
	const last = 13;
	return {name, backend, last, location: Math.max(10, width - 2 - name - backend - last)};
}

/** When the last backup was, for the list: `3 h ago`, or `never`/`?` when not known. */
export function describeLastBackup(profile: Profile, now: number = Date.now()): string {
	if (profile.lastBackup === undefined) return '—';
	const date = new Date(profile.lastBackup);
	return Number.isNaN(date.getTime()) ? '—' : formatRelativeTime(date, now);
}

/** The repositories screen. */
export function RepositoriesScreen() {
	const {profiles, navigate, store, reloadProfiles, env, cwd} = useAppContext();
	const {width, height} = useBodySize();
	const [list, setList] = useState(EMPTY_LIST);
	const [confirmRemove, setConfirmRemove] = useState(false);
	const [renaming, setRenaming] = useState<string>();
	const [message, setMessage] = useState<StatusMessage>();
	const [services, setServices] = useState<readonly ServiceConfigEntry[]>([]);
	const rows = Math.max(1, height - 3);
	const count = profiles.length + services.length;
	const view = {count, height: rows};
	const cursor = Math.min(list.cursor, count - 1);
	const selected = cursor < profiles.length ? profiles[cursor] : undefined;
	const selectedService = cursor >= profiles.length ? services[cursor - profiles.length] : undefined;

	// The service configs are looked for each time the list is shown.
	useEffect(() => {
		let live = true;
		discoverServiceConfigs(env, cwd).then(
			(found) => live && setServices(found),
			() => undefined,
		);
		return () => {
			live = false;
		};
	}, [env, cwd]);

	useScreenKeys((input, key) => {
		if (renaming !== undefined && selected !== undefined) {
			if (key.escape) setRenaming(undefined);
			else if (key.return) {
				const name = renaming.trim();
				if (name === selected.name) {
					setRenaming(undefined);
					return;
				}
				const problem = checkProfileName(name, profiles.filter((p) => p !== selected).map((p) => p.name));
				if (problem !== undefined) {
					setMessage({text: problem, tone: 'error'});
					return;
				}
				store.replaceProfile(selected.name, {...selected, name});
				reloadProfiles();
				setRenaming(undefined);
				setMessage({text: `Renamed ${selected.name} to ${name}. Use cairn --profile ${name} on the command line.`, tone: 'success'});
			} else {
				const edited = editText(renaming, input, key);
				if (edited !== undefined) {
					setRenaming(edited);
					setMessage(undefined);
				}
			}
			return;
		}
		if (confirmRemove) {
			if (input === 'y' && selected !== undefined) {
				store.removeProfile(selected.name);
				reloadProfiles();
				setList(EMPTY_LIST);
				setMessage({text: `Removed ${selected.name} from the list. Its repository and backups were not touched.`});
			}
			setConfirmRemove(false);
			return;
		}
		// Reached from the welcome screen (service configs without a saved profile): Esc goes back.
		if (key.escape) {
			navigate({type: 'pop'});
			return;
		}
		const move = readListMove(input, key);
		if (move !== undefined) {
			setList(moveList(list, move, view));
			setMessage(undefined);
			return;
		}
		if (selectedService !== undefined) {
			if (key.return || key.rightArrow) navigate({type: 'push', route: {name: 'service', configPath: selectedService.path}});
			else if (input === 'e' || input === 'r' || input === 'd') setMessage({text: `A service config is changed in its file: ${selectedService.path}`});
			else if (input === 'a') navigate({type: 'push', route: {name: 'add-repository', intent: 'connect'}});
			else if (input === 'n') navigate({type: 'push', route: {name: 'welcome'}});
			return;
		}
		if ((key.return || key.rightArrow) && selected !== undefined) navigate({type: 'push', route: {name: 'unlock', profile: selected, saveProfile: false}});
		else if (input === 'a') navigate({type: 'push', route: {name: 'add-repository', intent: 'connect'}});
		else if (input === 'n') navigate({type: 'push', route: {name: 'welcome'}});
		else if (input === 'e' && selected !== undefined) navigate({type: 'push', route: {name: 'add-repository', intent: 'connect', edit: selected}});
		else if (input === 'r' && selected !== undefined) {
			setRenaming(selected.name);
			setMessage(undefined);
		} else if (input === 'd' && selected !== undefined) setConfirmRemove(true);
	});

	const {start, end} = visibleRange(list, view);
	const columns = layoutRepositoryColumns(width, [...profiles, ...services.map((entry) => ({name: entry.name, location: entry.path}))]);
	const now = Date.now();
	let status: StatusMessage | ReactNode;
	if (renaming !== undefined) {
		status = (
			<Text>
				<Text bold>{'New name: '}</Text>
				{renaming}
				<Text inverse> </Text>
				<Text dimColor>{message === undefined ? '  Enter renames, Esc keeps the name' : ''}</Text>
			</Text>
		);
		if (message !== undefined) status = message;
	} else if (confirmRemove && selected !== undefined) {
		status = {text: `Remove "${selected.name}" from the list? Its backups stay. y = remove, other keys = keep`, tone: 'warning'};
	} else {
		const serviceCount = services.length === 0 ? '' : `, ${services.length} service config${services.length === 1 ? '' : 's'}`;
		status = message ?? {text: `${profiles.length} saved ${profiles.length === 1 ? 'repository' : 'repositories'}${serviceCount}`};
	}
	return (
		<ScreenFrame title="Repositories" help={HELP} status={status} textMode={renaming !== undefined}>
			<Box flexDirection="column">
				<Text bold>{'  ' + fitText('Name', columns.name) + fitText('Type', columns.backend) + fitText('Location', columns.location) + fitText('Last backup', columns.last)}</Text>
				{profiles.length === 0 ? <Text>{'  No repository saved. Press n for a new one or a to add one.'}</Text> : null}
				{profiles.slice(start, Math.min(end, profiles.length)).map((profile, offset) => {
						const index = start + offset;
						const where = describeLocation(profile.location);
						const current = index === list.cursor;
						const name = current && renaming !== undefined ? renaming : profile.name;
						return (
							<Text key={profile.name} inverse={current} dimColor={!current && !where.available}>
								{(current ? '› ' : '  ') + fitText(name, columns.name) + fitText(where.backend, columns.backend) + fitText(truncateStart(where.location, columns.location - 1), columns.location) + fitText(describeLastBackup(profile, now), columns.last)}
							</Text>
						);
					})}
				{services.slice(Math.max(0, start - profiles.length), Math.max(0, end - profiles.length)).map((entry, offset) => {
					const index = Math.max(start, profiles.length) + offset;
					const current = index === list.cursor;
					return (
						<Text key={'service:' + entry.path} inverse={current} dimColor={!current && entry.error !== undefined}>
							{(current ? '› ' : '  ') + fitText(entry.name, columns.name) + fitText('Service config', columns.backend) + fitText(truncateStart(entry.path, columns.location - 1), columns.location) + fitText(describeServiceLastBackup(entry, now), columns.last)}
						</Text>
					);
				})}
				{renaming !== undefined && message !== undefined ? (
					<Text>
						<Text bold>{'  New name: '}</Text>
						{renaming}
						<Text inverse> </Text>
					</Text>
				) : null}
			</Box>
		</ScreenFrame>
	);
}
