/**
 * Adds an existing repository: a name and a location (a local path, or any location the
 * registry knows). The location is checked by the registry and for a repository being there;
 * then the password is asked and the profile saved once the repository opens.
 */
import {useState} from 'react';
import {Box, Text} from 'ink';
import {useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp} from '../ui/screen-frame.js';
import {editText, TextField} from '../ui/text-field.js';
import {chooseProfileName} from '../profiles.js';
import {describeError, normalizeLocation, probeRepository} from '../session.js';
import {completePath} from '../path-completion.js';
import {listAdapters} from '../../adapters/registry.js';
import {truncateEnd} from '../format.js';

const HELP: readonly KeyHelp[] = [
	{keys: 'Enter', action: 'next / add'},
	{keys: 'Tab', action: 'complete path'},
	{keys: '↑↓', action: 'field'},
	{keys: 'Esc', action: 'back'},
	{keys: 'Ctrl-W', action: 'delete the last path component', more: true},
	{keys: 'Ctrl-U', action: 'clear the field', more: true},
];

/** Checks a profile name; returns what is wrong, or undefined. */
export function checkProfileName(name: string, taken: readonly string[]): string | undefined {
	if (name.trim() === '') return 'Give the repository a name, e.g. "laptop" or "usb-disk".';
	if (taken.includes(name.trim())) return `A repository named "${name.trim()}" is already saved. Choose another name.`;
	return undefined;
}

/** The add-repository screen. */
export function AddRepositoryScreen() {
	const {profiles, navigate, cwd, home, color} = useAppContext();
	const {width} = useBodySize();
	const [name, setName] = useState(() => chooseProfileName(profiles, profiles.length === 0 ? 'default' : 'repository'));
	const [location, setLocation] = useState('');
	const [field, setField] = useState<0 | 1>(1);
	const [busy, setBusy] = useState(false);
	const [message, setMessage] = useState<string>();
	const [candidates, setCandidates] = useState<readonly string[]>([]);

	const submit = async (): Promise<void> => {
		const nameProblem = checkProfileName(name, profiles.map((p) => p.name));
		if (nameProblem !== undefined) {
			setMessage(nameProblem);
			setField(0);
			return;
		}
		let normalized: string;
		try {
			normalized = normalizeLocation(location, cwd, home);
		} catch (error) {
			setMessage(describeError(error).replace(/\n\s*-\s*/g, ' '));
			return;
		}
		setBusy(true);
		setMessage(undefined);
		try {
			const found = await probeRepository(normalized);
			setBusy(false);
			if (!found) {
				setMessage(`No repository at ${normalized}: it has no config file. Check the location.`);
				return;
			}
			navigate({type: 'push', route: {name: 'unlock', profile: {name: name.trim(), location: normalized}, saveProfile: true}});
		} catch (error) {
			setBusy(false);
			setMessage(describeError(error));
		}
	};

	useScreenKeys((input, key) => {
		if (busy) return;
		if (key.escape) {
			navigate({type: 'pop'});
			return;
		}
		if (key.upArrow || key.downArrow || (key.tab && field === 0)) {
			setField(field === 0 ? 1 : 0);
			setCandidates([]);
			return;
		}
		if (key.tab) {
			void completePath(location, cwd, home).then((completion) => {
				setLocation(completion.value);
				setCandidates(completion.candidates);
			});
			return;
		}
		if (key.return) {
			if (field === 0) setField(1);
			else void submit();
			return;
		}
		if (field === 0) {
			const edited = editText(name, input, key);
			if (edited !== undefined) setName(edited);
		} else {
			const edited = editText(location, input, key);
			if (edited !== undefined) {
				setLocation(edited);
				setCandidates([]);
			}
		}
		setMessage(undefined);
	});

	const examples = listAdapters().map((adapter) => adapter.example).join(', ');
	return (
		<ScreenFrame
			title="Add a repository"
			help={HELP}
			textMode
			status={busy ? {text: 'Looking for the repository…'} : message === undefined ? undefined : {text: message, tone: 'error'}}
		>
			<Box flexDirection="column" paddingX={1}>
				<Text>Add a repository that already exists. Its password is asked next.</Text>
				<Text> </Text>
				<TextField label="Name" value={name} focused={field === 0 && !busy} width={width - 2} labelWidth={11} />
				<TextField label="Location" value={location} focused={field === 1 && !busy} width={width - 2} labelWidth={11} placeholder="/path/to/repository" />
				<Text dimColor>{truncateEnd(`           A directory path, or a location such as ${examples}`, width - 2)}</Text>
				<Text> </Text>
				{candidates.length > 0 ? <Text color={color ? 'cyan' : undefined}>{truncateEnd(candidates.join('  '), (width - 2) * 3)}</Text> : null}
				{message !== undefined ? <Text wrap="wrap" color={color ? 'red' : undefined}>{message}</Text> : null}
			</Box>
		</ScreenFrame>
	);
}
