/**
 * Opens the repository of a profile. The password comes from the profile when it has one
 * (saved, file or command); otherwise it is asked, with any secret option the profile does not
 * keep (an access key, a token). A wrong password shows the engine's message and clears the field.
 */
import {useEffect, useMemo, useReducer, useState} from 'react';
import {Box, Text} from 'ink';
import {useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp} from '../ui/screen-frame.js';
import {FormView, readFormKey} from '../ui/form-view.js';
import type {Profile} from '../profiles.js';
import {describeError, describeLocation, describeOpenError, openSession} from '../session.js';
import {readLocationScheme} from '../connection.js';
import {findProfilePassword, readPasswordSourceKind} from '../password-source.js';
import {createFormState, isFormValid, reduceForm, type FormField} from '../state/form.js';
import {findAdapter} from '../../adapters/registry.js';
import type {AdapterDefinition, Environment} from '../../adapters/options.js';
import {truncateStart} from '../format.js';

const HELP: readonly KeyHelp[] = [
	{keys: 'Enter', action: 'open'},
	{keys: '↑↓', action: 'field'},
	{keys: 'Esc', action: 'back'},
	{keys: 'Ctrl-U', action: 'clear the field', more: true},
];

/** Props of {@link UnlockScreen}. */
export interface UnlockScreenProps {
	readonly profile: Profile;
	/** Save the profile once the repository opened (a repository added or found just now). */
	readonly saveProfile: boolean;
}

/** The secret options of a profile that must be typed to open it: not saved, and not in the environment. */
export function findMissingSecrets(profile: Profile, adapter: AdapterDefinition | undefined, env: Environment): FormField[] {
	if (adapter === undefined) return [];
	return adapter.options
		.filter((option) => option.secret === true && profile.options?.[option.name] === undefined)
		.filter((option) => profile.askSecrets?.includes(option.name) === true || option.required)
		.filter((option) => !(option.env ?? []).some((name) => (env[name] ?? '') !== ''))
		.map((option) => ({name: option.name, label: option.label, kind: 'secret' as const, required: true, description: `${option.description} It is not saved in the profile.`}));
}

/** The password screen. */
export function UnlockScreen({profile, saveProfile}: UnlockScreenProps) {
	const {navigate, setSession, store, reloadProfiles, color, env} = useAppContext();
	const {width, height} = useBodySize();
	const adapter = findAdapter(readLocationScheme(profile.location));
	const secretFields = useMemo(() => findMissingSecrets(profile, adapter, env), [profile, adapter, env]);
	const automatic = readPasswordSourceKind(profile) !== 'ask';
	const [askPassword, setAskPassword] = useState(!automatic);
	const fields = useMemo<FormField[]>(
		() => [...secretFields, ...(askPassword ? [{name: 'password', label: 'Password', kind: 'secret' as const, required: true}] : [])],
		[secretFields, askPassword],
	);
	const [form, dispatchForm] = useReducer((state: ReturnType<typeof createFormState>, action: Parameters<typeof reduceForm>[1]) => reduceForm(state, action, fields), fields, (initial) => createFormState(initial));
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState<string>();
	const [attempts, setAttempts] = useState(0);
	const where = describeLocation(profile.location);

	const open = async (typed: string | undefined): Promise<void> => {
		setBusy(true);
		setError(undefined);
		const secrets = Object.fromEntries(secretFields.map((field) => [field.name, form.values[field.name] ?? '']));
		let password: string;
		try {
			password = typed ?? (await findProfilePassword(profile)) ?? '';
		} catch (caught) {
			setBusy(false);
			setAskPassword(true);
			setError(`${describeError(caught)} Type the password instead.`);
			return;
		}
		try {
			const session = await openSession(profile, password, {secrets, env});
			if (saveProfile) {
				store.saveProfile(profile);
				reloadProfiles();
			}
			navigate({type: 'reset', stack: [{name: 'repositories'}, {name: 'snapshots'}]});
			setSession(session);
		} catch (caught) {
			setBusy(false);
			setAskPassword(true);
			dispatchForm({type: 'set-value', name: 'password', value: ''});
			setAttempts((n) => n + 1);
			setError(describeOpenError(caught));
		}
	};

	// A password kept by the profile opens the repository without a question.
	useEffect(() => {
		if (automatic && secretFields.length === 0 && where.available) void open(undefined);
		// Only on the first show.
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, []);

	useScreenKeys((input, key) => {
		if (busy) return;
		if (key.escape) {
			navigate({type: 'pop'});
			return;
		}
		if (!where.available) return;
		const result = readFormKey(input, key, fields, form);
		if (result === undefined) return;
		if (result.type === 'submit') {
			dispatchForm({type: 'check-all'});
			if (!isFormValid(reduceForm(form, {type: 'check-all'}, fields), fields)) return;
			void open(askPassword ? (form.values.password ?? '') : undefined);
			return;
		}
		if (result.type === 'complete') return;
		dispatchForm(result);
	});

	let status;
	if (busy) status = {text: 'Opening the repository…'};
	else if (!where.available) status = {text: `${where.backend} is not available in this build: this repository cannot be opened here.`, tone: 'error' as const};
	else if (error !== undefined) status = {text: `Could not open the repository${attempts > 1 ? ` (attempt ${attempts})` : ''}: type the password again, or Esc`, tone: 'error' as const};
	const source = readPasswordSourceKind(profile);
	const note = source === 'file' ? `The password is read from ${profile.passwordFile ?? ''}.` : source === 'command' ? 'The password is printed by the profile\'s command.' : source === 'save' ? 'The password is saved in the profile.' : 'The password is not saved. Press Enter to open the repository.';
	return (
		<ScreenFrame title={`${profile.name} › Password`} help={HELP} textMode={fields.length > 0} status={status}>
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
				{fields.length > 0 ? <FormView fields={fields} state={form} width={width - 2} height={Math.max(3, Math.min(height - 8, fields.length * 2 + 2))} active={!busy} /> : null}
				{error !== undefined ? <Text wrap="wrap" color={color ? 'red' : undefined}>{error}</Text> : <Text dimColor>{note}</Text>}
			</Box>
		</ScreenFrame>
	);
}
