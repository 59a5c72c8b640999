/**
 * The add-or-connect wizard, generated from the adapters' option declarations:
 * 1. pick a backend (every registered adapter; planned ones say they are not available yet);
 * 2. fill its form, each field checked as it is left, secrets masked;
 * 3. test the connection, with failures explained and what was typed kept;
 * 4. give the password (twice for a new repository), or a password file or command;
 * 5. name the profile, choose whether secrets are saved, the advanced settings, and go.
 * Also edits a saved profile (starting at its form).
 */
import {useMemo, useReducer, useRef, useState} from 'react';
import {stat} from 'node:fs/promises';
import {Box, Text} from 'ink';
import {useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp, type StatusMessage} from '../ui/screen-frame.js';
import {FormView, readFormKey} from '../ui/form-view.js';
import {checkProfileName, chooseProfileName, type Profile, type ProfileCompression} from '../profiles.js';
import {createSession, describeError, describeOpenError, openSession} from '../session.js';
import {completePath, expandPath} from '../path-completion.js';
import {describeUnavailable, findBackend, listBackends, type BackendEntry} from '../backends.js';
import {buildOptionFields, buildProfileParts, explainConnectionError, readLocationScheme, readProfileValues, resolveLocalPaths, testConnection, type HostKeyProblem} from '../connection.js';
import {findProfilePassword, readPasswordSourceKind} from '../password-source.js';
import {createWizardState, currentForm, reduceWizard, type WizardIntent, type WizardState} from '../state/wizard.js';
import {isFormValid, readChoice, readFilledValues, reduceForm, type FormAction, type FormField, type FormState} from '../state/form.js';
import {readListMove, visibleRange} from '../state/list.js';
import {fitText, truncateEnd} from '../format.js';
import {WrongPasswordError} from '../../engine/errors.js';

export {checkProfileName};

/** Checks a new password and its repetition; returns what is wrong, or undefined. */
function checkRepeat(password: string): (value: string) => string | undefined {
	return (value) => (value === password ? undefined : 'The two passwords differ. Type the same password twice.');
}

/** The fields of the password step for an intent and the chosen source. */
export function buildPasswordFields(intent: WizardIntent, values: Readonly<Record<string, string>>): FormField[] {
	const source = values.source ?? 'ask';
	const fields: FormField[] = [
		{
			name: 'source', label: 'Password', kind: 'choice',
			choices: ['ask', 'save', 'file', 'command'],
			choiceLabels: ['type it when opening (not saved)', 'save it in the profile (plain text, mode 0600)', 'read it from a file', 'print it with a command'],
			description: 'Where the password comes from when the repository is opened. Space or ←→ changes it.',
		},
	];
	if (source === 'file') {
		fields.push({name: 'passwordFile', label: 'Password file', kind: 'path', required: true, mustExist: true, description: 'A file that holds the password (one line). Tab completes the path.'});
	} else if (source === 'command') {
		fields.push({name: 'passwordCommand', label: 'Command', kind: 'text', required: true, placeholder: 'pass show backup/cairn', description: 'A shell command that prints the password, e.g. from a password manager.'});
	} else {
		fields.push({name: 'password', label: intent === 'create' ? 'New password' : 'Password', kind: 'secret', required: true, description: intent === 'create' ? 'It encrypts the repository. Keep it safe: without it nobody, you included, can restore.' : 'The password of the repository.'});
		if (intent === 'create') fields.push({name: 'repeat', label: 'Repeat', kind: 'secret', required: true, check: checkRepeat(values.password ?? ''), description: 'The same password again, to be sure it was typed as meant.'});
	}
	return fields;
}

/** Checks a pack size in MiB. */
function checkPackSize(value: string): string | undefined {
	const mib = Number(value);
	return Number.isInteger(mib) && mib >= 4 && mib <= 128 ? undefined : 'Pack size must be a whole number of MiB from 4 to 128.';
}

/** A limit field's value as a number of KiB/s; undefined when empty. */
function readLimitField(value: string | undefined): number | undefined {
	const text = (value ?? '').trim();
	return text === '' ? undefined : Number(text);
}

/** Checks a bandwidth limit in KiB/s (empty for none). */
export function checkRateLimit(value: string): string | undefined {
	if (value.trim() === '') return undefined;
	const kib = Number(value);
	return Number.isFinite(kib) && kib > 0 ? undefined : 'A limit must be a positive number of KiB/s, or empty for no limit.';
}

/** The fields of the last step: the profile name, whether secrets are saved, and the advanced settings. */
export function buildFinishFields(takenNames: readonly string[], hasSecrets: boolean): FormField[] {
	const fields: FormField[] = [
		{name: 'name', label: 'Name', kind: 'text', required: true, check: (value) => checkProfileName(value, takenNames), description: 'The name shown in the list of repositories, and used with cairn --profile NAME.'},
	];
	if (hasSecrets) {
		fields.push({
			name: 'saveSecrets', label: 'Save secrets', kind: 'choice', choices: ['no', 'yes'],
			choiceLabels: ['no: ask for them when opening', 'yes: in the profile (plain text, mode 0600)'],
			description: 'Keys and tokens typed above. Not saved, they are asked when the repository is opened (or read from their environment variables).',
		});
	}
	fields.push(
		{name: 'compression', label: 'Compression', kind: 'choice', choices: ['auto', 'off', 'max'], choiceLabels: ['auto (fast, good for most data)', 'off', 'max (slower, smaller)'], section: 'Advanced', description: 'How new data is compressed.'},
		{name: 'packSize', label: 'Pack size (MiB)', kind: 'number', placeholder: '16', check: checkPackSize, description: 'Size of the files data is stored in; larger packs mean fewer files on slow backends. Default 16.'},
		{name: 'limitUpload', label: 'Upload limit (KiB/s)', kind: 'number', placeholder: 'unlimited', check: checkRateLimit, description: 'Most KiB per second sent to the repository (as --limit-upload), e.g. 512 on a home uplink. Empty: no limit.'},
		{name: 'limitDownload', label: 'Download limit (KiB/s)', kind: 'number', placeholder: 'unlimited', check: checkRateLimit, description: 'Most KiB per second read from the repository (as --limit-download). Empty: no limit.'},
	);
	return fields;
}

/** Tells whether a path exists; the message to show when it does not. */
async function checkExists(path: string, cwd: string, home: string): Promise<string | undefined> {
	const absolute = expandPath(path.trim(), cwd, home);
	try {
		await stat(absolute);
		return undefined;
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		return code === 'ENOENT' ? `${absolute} does not exist.` : `${absolute} cannot be read (${code ?? 'error'}).`;
	}
}

const STEP_NAMES: Record<WizardState['step'], string> = {
	backend: 'Backend', form: 'Settings', testing: 'Settings', problem: 'Settings', password: 'Password', finish: 'Name and options', working: 'Name and options',
};
const STEP_NUMBERS: Record<WizardState['step'], number> = {backend: 1, form: 2, testing: 3, problem: 3, password: 4, finish: 5, working: 5};

const BACKEND_HELP: readonly KeyHelp[] = [
	{keys: '↑↓', action: 'move'},
	{keys: 'Enter', action: 'choose'},
	{keys: 'Esc', action: 'back'},
];
const FORM_HELP: readonly KeyHelp[] = [
	{keys: 'Enter', action: 'next / test'},
	{keys: '↑↓', action: 'field'},
	{keys: 'Tab', action: 'complete'},
	{keys: 'Esc', action: 'back'},
	{keys: 'Space ←→', action: 'change a choice', more: true},
	{keys: '←→ Home End', action: 'move the cursor in a text field (also Ctrl-A, Ctrl-E)', more: true},
	{keys: 'Ctrl-U Ctrl-K', action: 'delete before / after the cursor', more: true},
	{keys: 'Ctrl-W', action: 'delete the word or path component before the cursor', more: true},
];
const PROBLEM_HELP: readonly KeyHelp[] = [
	{keys: 'Enter', action: 'fix'},
	{keys: 'c', action: 'create/connect instead (when offered)'},
	{keys: 't', action: 'trust the host key (when offered)'},
	{keys: 'Esc', action: 'back'},
];
const PASSWORD_HELP: readonly KeyHelp[] = [
	{keys: 'Enter', action: 'next'},
	{keys: '↑↓', action: 'field'},
	{keys: 'Space', action: 'source'},
	{keys: 'Esc', action: 'back'},
	{keys: 'Tab', action: 'complete the password file path', more: true},
	{keys: 'Ctrl-U', action: 'clear the field', more: true},
];
const FINISH_HELP: readonly KeyHelp[] = [
	{keys: 'Enter', action: 'go'},
	{keys: '↑↓', action: 'field'},
	{keys: 'Space', action: 'choice'},
	{keys: 'Esc', action: 'back'},
];
const WAIT_HELP: readonly KeyHelp[] = [{keys: 'Esc', action: 'cancel'}];

/** Props of {@link AddRepositoryScreen}. */
export interface AddRepositoryScreenProps {
	/** Make a new repository or connect to one (default connect). */
	readonly intent?: WizardIntent;
	/** The saved profile to edit. */
	readonly edit?: Profile;
}

/** The starting state of a wizard, for a new profile or for editing one. */
function startWizard(intent: WizardIntent, edit: Profile | undefined, profiles: readonly Profile[], env: Readonly<Record<string, string | undefined>>): WizardState {
	if (edit === undefined) {
		return createWizardState({intent, finish: {name: chooseProfileName(profiles, profiles.length === 0 ? 'default' : 'repository'), compression: 'auto', packSize: '', limitUpload: '', limitDownload: ''}});
	}
	const entry = findBackend(readLocationScheme(edit.location));
	const values = entry?.adapter !== undefined ? readProfileValues(edit, entry.adapter) : {};
	const kind = readPasswordSourceKind(edit);
	return createWizardState({
		intent: 'connect',
		finish: {
			name: edit.name,
			saveSecrets: entry?.options.some((o) => o.secret === true && edit.options?.[o.name] !== undefined) ? 'yes' : 'no',
			compression: edit.compression ?? 'auto',
			packSize: edit.packSizeMiB === undefined ? '' : String(edit.packSizeMiB),
			limitUpload: edit.limitUploadKiB === undefined ? '' : String(edit.limitUploadKiB),
			limitDownload: edit.limitDownloadKiB === undefined ? '' : String(edit.limitDownloadKiB),
		},
		password: {source: kind, passwordFile: edit.passwordFile ?? '', passwordCommand: edit.passwordCommand ?? ''},
		scheme: entry?.scheme,
		fields: entry === undefined ? undefined : buildOptionFields(entry, env),
		values,
	});
}

/** The wizard screen. */
export function AddRepositoryScreen({intent: initialIntent = 'connect', edit}: AddRepositoryScreenProps) {
	const {profiles, navigate, cwd, home, env, store, reloadProfiles, setSession, color} = useAppContext();
	const {width, height} = useBodySize();
	const backends = useMemo(() => listBackends(), []);
	const [state, dispatch] = useReducer(reduceWizard, undefined, () => startWizard(initialIntent, edit, profiles, env));
	const [candidates, setCandidates] = useState<readonly string[]>([]);
	const testAbort = useRef<AbortController | undefined>(undefined);
	const hostKey = useRef<HostKeyProblem | undefined>(undefined);
	const entry: BackendEntry | undefined = state.scheme !== undefined ? backends.find((b) => b.scheme === state.scheme) : backends[state.backends.cursor];
	const optionFields = useMemo(() => (entry === undefined ? [] : buildOptionFields(entry, env)), [entry, env]);
	const form = currentForm(state);
	const passwordFields = buildPasswordFields(state.intent, state.password.values);
	const typedValues = form === undefined ? {} : readFilledValues(form, optionFields);
	const hasSecrets = entry?.options.some((o) => o.secret === true && typedValues[o.name] !== undefined) ?? false;
	const takenNames = profiles.map((p) => p.name).filter((name) => name !== edit?.name);
	const finishFields = buildFinishFields(takenNames, hasSecrets);
	const title = `${edit !== undefined ? `Edit ${edit.name}` : state.intent === 'create' ? 'New repository' : 'Add a repository'} › ${STEP_NAMES[state.step]} (step ${STEP_NUMBERS[state.step]} of 5)`;

	/** Runs the file-exists check of a field that was just left. */
	const checkLeftField = (fields: readonly FormField[], formState: FormState, target: 'form' | 'password'): void => {
		const field = fields[formState.focus];
		const value = field === undefined ? '' : (formState.values[field.name] ?? '');
		if (field?.mustExist !== true || value.trim() === '') return;
		void checkExists(value, cwd, home).then((error) => {
			if (error !== undefined) dispatch({type: target, action: {type: 'set-error', name: field.name, error}, fields});
		});
	};

	const runTest = (intent: WizardIntent): void => {
		const adapter = entry?.adapter;
		if (adapter === undefined || form === undefined) return;
		testAbort.current?.abort();
		const controller = new AbortController();
		testAbort.current = controller;
		hostKey.current = undefined;
		const values = resolveLocalPaths(adapter, readFilledValues(form, optionFields), cwd, home);
		testConnection({adapter, values, intent, env, signal: controller.signal}).then(
			(outcome) => {
				if (!controller.signal.aborted) dispatch({type: 'test-passed', location: outcome.location});
			},
			(error: unknown) => {
				if (controller.signal.aborted) return;
				const problem = explainConnectionError(error, adapter);
				hostKey.current = problem.hostKey;
				dispatch({type: 'test-failed', fields: optionFields, problem: {message: problem.message, field: problem.field, suggest: problem.suggest, canTrust: problem.hostKey?.trust !== undefined}});
			},
		);
	};

	const startTest = (): void => {
		if (form === undefined || entry === undefined) return;
		if (entry.adapter === undefined) {
			dispatch({type: 'set-message', message: describeUnavailable(entry)});
			return;
		}
		dispatch({type: 'form', action: {type: 'check-all'}, fields: optionFields});
		if (!isFormValid(reduceForm(form, {type: 'check-all'}, optionFields), optionFields)) return;
		dispatch({type: 'test-start'});
		runTest(state.intent);
	};

	const finishPassword = async (): Promise<void> => {
		dispatch({type: 'password', action: {type: 'check-all'}, fields: passwordFields});
		if (!isFormValid(reduceForm(state.password, {type: 'check-all'}, passwordFields), passwordFields)) return;
		const values = state.password.values;
		for (const field of passwordFields) {
			const value = values[field.name] ?? '';
			if (field.mustExist === true && value.trim() !== '') {
				const missing = await checkExists(value, cwd, home);
				if (missing !== undefined) {
					dispatch({type: 'password', action: {type: 'set-error', name: field.name, error: missing}, fields: passwordFields});
					return;
				}
			}
		}
		dispatch({type: 'password-done'});
	};

	const finish = async (): Promise<void> => {
		const adapter = entry?.adapter;
		if (adapter === undefined || form === undefined) return;
		dispatch({type: 'finish', action: {type: 'check-all'}, fields: finishFields});
		if (!isFormValid(reduceForm(state.finish, {type: 'check-all'}, finishFields), finishFields)) return;
		const values = state.finish.values;
		dispatch({type: 'work-start'});
		const source = readChoice(passwordFields[0]!, state.password.values.source);
		const passwordFile = source === 'file' ? expandPath((state.password.values.passwordFile ?? '').trim(), cwd, home) : undefined;
		const passwordCommand = source === 'command' ? (state.password.values.passwordCommand ?? '').trim() : undefined;
		let password: string;
		try {
			password = (await findProfilePassword({passwordFile, passwordCommand, password: state.password.values.password ?? ''})) ?? '';
		} catch (error) {
			dispatch({type: 'work-failed', step: 'password', message: describeError(error)});
			return;
		}
		const optionValues = resolveLocalPaths(adapter, readFilledValues(form, optionFields), cwd, home);
		const saveSecrets = hasSecrets && values.saveSecrets === 'yes';
		const parts = buildProfileParts(adapter, optionValues, saveSecrets);
		const secrets = Object.fromEntries((parts.askSecrets ?? []).map((name) => [name, optionValues[name]!]));
		const packSize = (values.packSize ?? '').trim();
		const kept: Partial<Profile> = edit === undefined ? {} : {backupPaths: edit.backupPaths, excludes: edit.excludes, tags: edit.tags, lastBackup: edit.lastBackup, retention: edit.retention};
		const profile: Profile = {
			...kept,
			name: (values.name ?? '').trim(),
			location: parts.location,
			options: parts.options,
			askSecrets: parts.askSecrets,
			password: source === 'save' ? password : undefined,
			passwordFile,
			passwordCommand,
			compression: values.compression === 'auto' || values.compression === undefined ? undefined : (values.compression as ProfileCompression),
			packSizeMiB: packSize === '' ? undefined : Number(packSize),
			limitUploadKiB: readLimitField(values.limitUpload),
			limitDownloadKiB: readLimitField(values.limitDownload),
		};
		try {
			const open = state.intent === 'create' ? createSession : openSession;
			const session = await open(profile, password, {secrets, env});
			if (edit !== undefined) store.replaceProfile(edit.name, profile);
			else store.saveProfile(profile);
			reloadProfiles();
			navigate({type: 'reset', stack: [{name: 'repositories'}, {name: 'snapshots'}]});
			setSession(session);
		} catch (error) {
			if (error instanceof WrongPasswordError) {
				dispatch({type: 'work-failed', step: 'password', message: `${describeOpenError(error)} Type the password again.`});
			} else {
				dispatch({type: 'work-failed', step: 'finish', message: describeError(error)});
			}
		}
	};

	const applyFormKey = (target: 'form' | 'password' | 'finish', fields: readonly FormField[], formState: FormState, input: string, key: Parameters<typeof readFormKey>[1], onSubmit: () => void): void => {
		const result = readFormKey(input, key, fields, formState);
		if (result === undefined) return;
		if (result.type === 'submit') {
			onSubmit();
			return;
		}
		if (result.type === 'complete') {
			const field = fields[formState.focus];
			if (field === undefined) return;
			void completePath(formState.values[field.name] ?? '', cwd, home).then((completion) => {
				dispatch({type: target, action: {type: 'set-value', name: field.name, value: completion.value}, fields});
				setCandidates(completion.candidates);
			});
			return;
		}
		setCandidates([]);
		if (target !== 'finish' && (result.type === 'next' || result.type === 'previous')) checkLeftField(fields, formState, target);
		dispatch({type: target, action: result as FormAction, fields});
	};

	useScreenKeys((input, key) => {
		switch (state.step) {
			case 'backend': {
				const move = readListMove(input, key);
				if (move !== undefined) dispatch({type: 'move-backend', move, count: backends.length, height: Math.max(1, height - 6)});
				else if (key.escape) navigate({type: 'pop'});
				else if ((key.return || key.rightArrow) && entry !== undefined) {
					dispatch({type: 'choose-backend', scheme: entry.scheme, fields: optionFields});
					setCandidates([]);
				}
				return;
			}
			case 'form':
				if (key.escape) {
					if (edit !== undefined) navigate({type: 'pop'});
					else dispatch({type: 'back'});
					setCandidates([]);
					return;
				}
				if (form !== undefined) applyFormKey('form', optionFields, form, input, key, startTest);
				return;
			case 'testing':
				if (key.escape) {
					testAbort.current?.abort();
					dispatch({type: 'back'});
				}
				return;
			case 'problem':
				if (input === 'c' && state.problem?.suggest !== undefined) {
					const next = state.problem.suggest;
					dispatch({type: 'switch-intent'});
					runTest(next);
				} else if (input === 't' && state.problem?.canTrust === true && hostKey.current?.trust !== undefined) {
					const trust = hostKey.current.trust;
					dispatch({type: 'fix', fields: optionFields});
					dispatch({type: 'test-start'});
					void trust().then(
						() => runTest(state.intent),
						(error: unknown) => dispatch({type: 'test-failed', fields: optionFields, problem: {message: `The host key could not be recorded: ${describeError(error)}`}}),
					);
				} else if (key.return || key.escape || key.upArrow || key.downArrow) dispatch({type: 'fix', fields: optionFields});
				return;
			case 'password':
				if (key.escape) {
					dispatch({type: 'back'});
					setCandidates([]);
					return;
				}
				applyFormKey('password', passwordFields, state.password, input, key, () => void finishPassword());
				return;
			case 'finish': {
				if (key.escape) {
					dispatch({type: 'back'});
					return;
				}
				// Every field has a usable value: Enter goes from any of them.
				if (key.return) {
					void finish();
					return;
				}
				applyFormKey('finish', finishFields, state.finish, input, key, () => void finish());
				return;
			}
			case 'working':
				return;
		}
	});

	const intentText = state.intent === 'create' ? 'Create a new repository' : 'Connect to an existing repository';

	if (state.step === 'backend') {
		const listHeight = Math.max(1, height - 6);
		const view = {count: backends.length, height: listHeight};
		const {start, end} = visibleRange(state.backends, view);
		const labelWidth = Math.min(30, Math.max(...backends.map((b) => b.label.length)) + 3);
		return (
			<ScreenFrame title={title} help={BACKEND_HELP} status={{text: 'Choose the backend; planned ones show their form but cannot be used yet.'}}>
				<Box flexDirection="column" paddingX={1}>
					<Text bold>{truncateEnd(`${intentText}. Where is it kept?`, width - 2)}</Text>
					<Text> </Text>
					<Box flexDirection="column" height={listHeight}>
						{backends.slice(start, end).map((backend, offset) => {
							const index = start + offset;
							const current = index === state.backends.cursor;
							const note = backend.adapter === undefined ? 'not available yet in this build' : backend.example;
							return (
								<Text key={backend.scheme} inverse={current} dimColor={!current && backend.adapter === undefined}>
									{fitText(`${current ? '›' : ' '} ${fitText(backend.label, labelWidth)}${note}`, width - 2)}
								</Text>
							);
						})}
					</Box>
					<Text> </Text>
					<Text wrap="truncate-end">{entry === undefined ? ' ' : truncateEnd(entry.adapter === undefined ? describeUnavailable(entry) : entry.description, width - 2)}</Text>
				</Box>
			</ScreenFrame>
		);
	}

	if (state.step === 'form' || state.step === 'testing' || state.step === 'problem') {
		const unavailable = entry?.adapter === undefined;
		const problemLines = state.step === 'problem' && state.problem !== undefined ? Math.min(6, Math.ceil(state.problem.message.length / Math.max(1, width - 2)) + 2) : 0;
		let status: StatusMessage;
		if (state.step === 'testing') status = {text: 'Testing the connection… (Esc cancels)'};
		else if (state.step === 'problem') status = {text: 'The test failed. Enter: back to the form (what you typed is kept).', tone: 'error'};
		else if (unavailable && entry !== undefined) status = {text: describeUnavailable(entry), tone: 'warning'};
		else if (state.message !== undefined) status = {text: state.message, tone: 'error'};
		else status = {text: 'Enter tests the connection once the required fields are filled.'};
		return (
			<ScreenFrame title={title} help={state.step === 'testing' ? WAIT_HELP : state.step === 'problem' ? PROBLEM_HELP : FORM_HELP} textMode={state.step === 'form'} status={status}>
				<Box flexDirection="column" paddingX={1}>
					<Text bold>{truncateEnd(`${entry?.label ?? ''}: ${intentText.toLowerCase()}`, width - 2)}</Text>
					{unavailable && entry !== undefined ? <Text color={color ? 'yellow' : undefined} bold>{truncateEnd('Not available yet in this build: the form shows what it will ask for.', width - 2)}</Text> : <Text> </Text>}
					{form !== undefined ? <FormView fields={optionFields} state={form} width={width - 2} height={height - 2 - problemLines} active={state.step === 'form'} candidates={candidates} /> : null}
					{state.step === 'problem' && state.problem !== undefined ? (
						<Box flexDirection="column" height={problemLines}>
							<Text wrap="wrap" color={color ? 'red' : undefined}>{state.problem.message}</Text>
							<Text bold>{truncateEnd(['Enter: fix the settings', state.problem.suggest === 'create' ? 'c: create a new repository there' : state.problem.suggest === 'connect' ? 'c: connect to it' : '', state.problem.canTrust === true ? 't: trust this host key' : ''].filter(Boolean).join('   '), width - 2)}</Text>
						</Box>
					) : null}
				</Box>
			</ScreenFrame>
		);
	}

	if (state.step === 'password') {
		const intro = state.intent === 'create' ? 'Choose the password of the new repository.' : 'The password of the repository (it is checked in the last step).';
		return (
			<ScreenFrame title={title} help={PASSWORD_HELP} textMode={passwordFields[state.password.focus]?.kind !== 'choice'} status={state.message !== undefined ? {text: state.message, tone: 'error'} : {text: `${state.location ?? ''} answered.`}}>
				<Box flexDirection="column" paddingX={1}>
					<Text bold>{truncateEnd(intro, width - 2)}</Text>
					<Text> </Text>
					<FormView fields={passwordFields} state={state.password} width={width - 2} height={height - 2 - (state.message !== undefined ? 2 : 0)} candidates={candidates} />
					{state.message !== undefined ? <Text wrap="wrap" color={color ? 'red' : undefined}>{state.message}</Text> : null}
				</Box>
			</ScreenFrame>
		);
	}

	const action = state.intent === 'create' ? `Create a new repository at ${state.location ?? ''}` : `Connect to ${state.location ?? ''}`;
	return (
		<ScreenFrame
			title={title}
			help={state.step === 'working' ? [] : FINISH_HELP}
			textMode={state.step === 'finish' && finishFields[state.finish.focus]?.kind !== 'choice'}
			status={state.step === 'working' ? {text: state.intent === 'create' ? 'Creating the repository…' : 'Opening the repository…'} : state.message !== undefined ? {text: state.message, tone: 'error'} : {text: `Enter ${state.intent === 'create' ? 'creates the repository' : 'connects'}.`}}
		>
			<Box flexDirection="column" paddingX={1}>
				<Text bold>{truncateEnd(action, width - 2)}</Text>
				<Text> </Text>
				<FormView fields={finishFields} state={state.finish} width={width - 2} height={height - 2 - (state.message !== undefined ? 3 : 0)} active={state.step === 'finish'} />
				{state.message !== undefined ? <Text wrap="wrap" color={color ? 'red' : undefined}>{state.message}</Text> : null}
			</Box>
		</ScreenFrame>
	);
}
