/**
 * Quick start: creates a local repository at the default place with a password typed twice,
 * saves it as a profile (without the password) and opens it.
 */
import {useState} from 'react';
import {Box, Text} from 'ink';
import {useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp} from '../ui/screen-frame.js';
import {editText, TextField} from '../ui/text-field.js';
import {chooseProfileName, findDefaultRepositoryPath} from '../profiles.js';
import {createSession, describeError} from '../session.js';
import {truncateStart} from '../format.js';

const HELP: readonly KeyHelp[] = [
	{keys: 'Enter', action: 'next / create'},
	{keys: 'Tab', action: 'other field'},
	{keys: 'Esc', action: 'back'},
];

/** Checks the two passwords; returns what is wrong, or undefined. */
export function checkNewPassword(password: string, repeat: string): string | undefined {
	if (password === '') return 'Type a password: it encrypts the repository. Without it the backups cannot be read.';
	if (password !== repeat) return 'The two passwords differ. Type them again.';
	return undefined;
}

/** The quick start screen. */
export function QuickStartScreen() {
	const {env, profiles, store, reloadProfiles, setSession, navigate} = useAppContext();
	const {width} = useBodySize();
	const path = findDefaultRepositoryPath(env);
	const [values, setValues] = useState<[string, string]>(['', '']);
	const [field, setField] = useState<0 | 1>(0);
	const [busy, setBusy] = useState(false);
	const [message, setMessage] = useState<string>();

	const create = async (password: string): Promise<void> => {
		setBusy(true);
		setMessage(undefined);
		const profile = {name: chooseProfileName(profiles, 'default'), location: `local:${path}`};
		try {
			const session = await createSession(profile, password);
			store.saveProfile(profile);
			reloadProfiles();
			navigate({type: 'reset', stack: [{name: 'repositories'}, {name: 'snapshots'}]});
			setSession(session);
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
		if (key.tab || key.upArrow || key.downArrow) {
			setField(field === 0 ? 1 : 0);
			return;
		}
		if (key.return) {
			if (field === 0) {
				if (values[0] === '') setMessage(checkNewPassword('', ''));
				else setField(1);
				return;
			}
			const problem = checkNewPassword(values[0], values[1]);
			if (problem !== undefined) {
				setMessage(problem);
				setValues(['', '']);
				setField(0);
				return;
			}
			void create(values[0]);
			return;
		}
		const edited = editText(values[field], input, key);
		if (edited !== undefined) {
			setValues(field === 0 ? [edited, values[1]] : [values[0], edited]);
			setMessage(undefined);
		}
	});

	return (
		<ScreenFrame
			title="Quick start"
			help={HELP}
			textMode
			status={busy ? {text: 'Creating the repository…'} : message === undefined ? undefined : {text: message, tone: 'error'}}
		>
			<Box flexDirection="column" paddingX={1}>
				<Text bold>A new repository will be created at:</Text>
				<Text>{'  ' + truncateStart(path, width - 4)}</Text>
				<Text> </Text>
				<Text>Choose its password. Keep it safe: without it nobody, you included, can restore.</Text>
				<Text>It is not saved by cairn; you type it when you open the repository.</Text>
				<Text> </Text>
				<TextField label="Password" value={values[0]} masked focused={field === 0 && !busy} width={width - 2} labelWidth={18} />
				<TextField label="Repeat password" value={values[1]} masked focused={field === 1 && !busy} width={width - 2} labelWidth={18} />
			</Box>
		</ScreenFrame>
	);
}
