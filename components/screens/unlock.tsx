/**
 * Asks the password of a repository and opens it. A wrong password shows the engine's message
 * and the field is cleared for another try.
 */
import {useState} from 'react';
import {Box, Text} from 'ink';
import {useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp} from '../ui/screen-frame.js';
import {editText, TextField} from '../ui/text-field.js';
import type {Profile} from '../profiles.js';
import {describeError, describeLocation, openSession} from '../session.js';
import {truncateStart} from '../format.js';

const HELP: readonly KeyHelp[] = [
	{keys: 'Enter', action: 'open'},
	{keys: 'Esc', action: 'back'},
	{keys: 'Ctrl-U', action: 'clear the field', more: true},
];

/** Props of {@link UnlockScreen}. */
export interface UnlockScreenProps {
	readonly profile: Profile;
	/** Save the profile once the repository opened (a repository added or found just now). */
	readonly saveProfile: boolean;
}

/** The password screen. */
export function UnlockScreen({profile, saveProfile}: UnlockScreenProps) {
	const {navigate, setSession, store, reloadProfiles, color} = useAppContext();
	const {width} = useBodySize();
	const [password, setPassword] = useState('');
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState<string>();
	const [attempts, setAttempts] = useState(0);
	const where = describeLocation(profile.location);

	const open = async (typed: string): Promise<void> => {
		setBusy(true);
		setError(undefined);
		try {
			const session = await openSession(profile, typed);
			if (saveProfile) {
				store.saveProfile(profile);
				reloadProfiles();
			}
			navigate({type: 'reset', stack: [{name: 'repositories'}, {name: 'snapshots'}]});
			setSession(session);
		} catch (caught) {
			setBusy(false);
			setPassword('');
			setAttempts((n) => n + 1);
			setError(describeError(caught));
		}
	};

	useScreenKeys((input, key) => {
		if (busy) return;
		if (key.escape) {
			navigate({type: 'pop'});
			return;
		}
		if (key.return) {
			void open(password);
			return;
		}
		const edited = editText(password, input, key);
		if (edited !== undefined) setPassword(edited);
	});

	return (
		<ScreenFrame
			title={`${profile.name} › Password`}
			help={HELP}
			textMode
			status={busy ? {text: 'Opening the repository…'} : error === undefined ? undefined : {text: `Could not open the repository${attempts > 1 ? ` (attempt ${attempts})` : ''}: type the password again, or Esc`, tone: 'error'}}
		>
			<Box flexDirection="column" paddingX={1}>
				<Text>
					<Text bold>{'Repository '}</Text>
					{profile.name}
				</Text>
				<Text>
					<Text bold>{'Type       '}</Text>
					{where.backend}
				</Text>
				<Text>
					<Text bold>{'Location   '}</Text>
					{truncateStart(where.location, width - 14)}
				</Text>
				<Text> </Text>
				<TextField label="Password" value={password} masked focused={!busy} width={width - 2} labelWidth={11} />
				<Text> </Text>
				{error !== undefined ? <Text wrap="wrap" color={color ? 'red' : undefined}>{error}</Text> : <Text dimColor>The password is not saved. Press Enter to open the repository.</Text>}
			</Box>
		</ScreenFrame>
	);
}
