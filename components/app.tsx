/**
 * The root of the full-screen app: global keys, the screen stack, the open repository,
 * and a clean stop (running operations are cancelled and the repository closed before exit).
 */
import {useCallback, useEffect, useMemo, useReducer, useRef, useState} from 'react';
import {Box, Text, useApp, useInput} from 'ink';
import {AppContext, type AppContextValue, type TrackedOperation} from './ui/app-context.js';
import {splitKeyPresses, type KeyHandler, type KeyPress} from './ui/keys.js';
import {createNavigation, currentRoute, needsSession, reduceNavigation, type Route} from './state/navigation.js';
import {findHomeDirectory, openProfileStore, type Profile, type ProfileStore} from './profiles.js';
import type {Session} from './session.js';
import {useTerminalSize} from './use-terminal-size.js';
import {ScreenFrame} from './ui/screen-frame.js';
import {WelcomeScreen} from './screens/welcome.js';
import {buildServiceCommand, type ServiceCommandBuilder} from './service-command.js';

/** The screens loaded after the first frame (screens/index.ts). */
export type Screens = typeof import('./screens/index.js');

let loadedScreens: Screens | undefined;
let screensLoad: Promise<Screens> | undefined;

/**
 * Loads every screen but the welcome screen, once. They bring in the engine and the storage
 * adapters, so they are loaded after the first frame is drawn, not before it.
 */
export function loadScreens(): Promise<Screens> {
	screensLoad ??= import('./screens/index.js').then(
		(screens) => {
			loadedScreens = screens;
			return screens;
		},
		(error: unknown) => {
			screensLoad = undefined;
			throw error;
		},
	);
	return screensLoad;
}

/** Props of {@link App}. */
export interface AppProps {
	/** Environment: XDG paths, HOME, NO_COLOR. */
	readonly env: Readonly<Record<string, string | undefined>>;
	/** Directory relative paths are resolved against (restore targets, backup paths). */
	readonly cwd: string;
	/** Longest wait for running operations to stop when quitting, in ms. */
	readonly stopTimeoutMs?: number;
	/** Loads the screens behind the first frame (tests slow it down; default {@link loadScreens}). */
	readonly loadScreens?: () => Promise<Screens>;
	/**
	 * Builds the command line of the `cairn service ...` runs the Service screen starts
	 * (default: this Node with dist/source/cli.js; tests point it elsewhere).
	 */
	readonly serviceCommand?: ServiceCommandBuilder;
	/** How often the Service screen polls the state file when it cannot watch it, in ms. */
	readonly statePollMs?: number;
}

/** Tells whether colours are allowed (https://no-color.org: any non-empty NO_COLOR turns them off). */
export function isColorAllowed(env: Readonly<Record<string, string | undefined>>): boolean {
	return !env.NO_COLOR;
}

/** The app. Opens the profile store from `env`; shows why when it cannot. */
export function App({env, cwd, stopTimeoutMs = 15_000, loadScreens: load, serviceCommand = buildServiceCommand, statePollMs}: AppProps) {
	const opened = useMemo((): {store: ProfileStore} | {error: string} => {
		try {
			return {store: openProfileStore(env)};
		} catch (error) {
			return {error: error instanceof Error ? error.message : String(error)};
		}
	}, [env]);
	if ('error' in opened) return <StoreError message={opened.error} />;
	return <Main env={env} cwd={cwd} store={opened.store} stopTimeoutMs={stopTimeoutMs} loadScreens={load} serviceCommand={serviceCommand} statePollMs={statePollMs} />;
}

function StoreError({message}: {message: string}) {
	const {exit} = useApp();
	useInput((input, key) => {
		if (input === 'q' || key.escape || key.return || (key.ctrl && input === 'c')) exit();
	});
	return (
		<Box flexDirection="column">
			<Text bold>cairn cannot read its settings:</Text>
			<Text>{message}</Text>
			<Text>Fix or remove the file, then start cairn again. Press q to quit.</Text>
		</Box>
	);
}

function Main({env, cwd, store, stopTimeoutMs, loadScreens: load, serviceCommand, statePollMs}: Omit<Required<AppProps>, 'loadScreens' | 'statePollMs'> & {store: ProfileStore; loadScreens?: () => Promise<Screens>; statePollMs?: number}) {
	const {exit} = useApp();
	const {columns, rows} = useTerminalSize();
	const [profiles, setProfiles] = useState<readonly Profile[]>(() => store.listProfiles());
	const [navigation, navigate] = useReducer(reduceNavigation, profiles, createNavigation);
	const [session, setSessionState] = useState<Session>();
	const [helpOpen, setHelpOpen] = useState(false);
	const [quitQuestion, setQuitQuestion] = useState(false);
	const [quitting, setQuitting] = useState(false);
	const textMode = useRef(false);
	const operations = useRef(new Set<TrackedOperation>());
	const memory = useRef(new Map<string, unknown>()).current;
	const sessionRef = useRef<Session | undefined>(undefined);
	sessionRef.current = session;
	const keyHandler = useRef<KeyHandler | undefined>(undefined);
	const keyQueue = useRef<KeyPress[]>([]);
	const [keyTick, setKeyTick] = useState(0);
	const [screens, setScreens] = useState<Screens | undefined>(load === undefined ? loadedScreens : undefined);
	const route = currentRoute(navigation);

	// The other screens load once the first frame is on the terminal.
	useEffect(() => {
		if (screens !== undefined) return;
		let live = true;
		(load ?? loadScreens)().then(
			(loaded) => live && setScreens(loaded),
			(error: unknown) => {
				// Nothing can be shown without them: end the app with the reason.
				throw error;
			},
		);
		return () => {
			live = false;
		};
	}, [screens, load]);

	// Leaving every screen that needs the repository closes it.
	useEffect(() => {
		if (session !== undefined && !needsSession(navigation)) {
			void session.close();
			memory.clear();
			setSessionState(undefined);
		}
	}, [navigation, session, memory]);

	const setSession = useCallback((next: Session) => {
		const previous = sessionRef.current;
		if (previous !== undefined && previous !== next) void previous.close();
		memory.clear();
		sessionRef.current = next;
		setSessionState(next);
	}, [memory]);

	const quit = useCallback(async () => {
		setQuitting(true);
		setQuitQuestion(false);
		const running = [...operations.current];
		for (const operation of running) operation.cancel();
		if (running.length > 0) {
			let timer: NodeJS.Timeout | undefined;
			await Promise.race([
				Promise.allSettled(running.map((operation) => operation.done)),
				new Promise((resolve) => {
					timer = setTimeout(resolve, stopTimeoutMs);
				}),
			]);
			clearTimeout(timer);
		}
		await sessionRef.current?.close();
		exit();
	}, [exit, stopTimeoutMs]);

	// Keys are queued and handled one per render (see ui/keys.ts); Ctrl-C acts at once.
	useInput((input, key) => {
		if (key.ctrl && input === 'c') {
			if (!quitting) void quit();
			return;
		}
		keyQueue.current.push(...splitKeyPresses(input, key));
		setKeyTick((tick) => tick + 1);
	});

	useEffect(() => {
		// Keys wait while the screen shown is still loading (this effect runs again once it is there):
		// they may be a password typed ahead, where q and ? are text. Ctrl-C still quits at once.
		if (screens === undefined && route.name !== 'welcome') return;
		const press = keyQueue.current.shift();
		if (press === undefined) return;
		if (keyQueue.current.length > 0) setKeyTick((tick) => tick + 1);
		const {input, key} = press;
		if (quitting) return;
		if (quitQuestion) {
			if (input === 'y' || input === 'Y') void quit();
			else if (input === 'n' || input === 'N' || key.escape) setQuitQuestion(false);
			return;
		}
		if (helpOpen) {
			if (input === '?' || input === 'q' || key.escape || key.return || (key.ctrl && input === 'g')) setHelpOpen(false);
			return;
		}
		// Ctrl-G opens the help everywhere, also while typing (where ? is text), as in nano.
		if (key.ctrl && input === 'g') {
			setHelpOpen(true);
			return;
		}
		if (!textMode.current) {
			if (input === '?') {
				setHelpOpen(true);
				return;
			}
			if (input === 'q') {
				if (operations.current.size > 0) setQuitQuestion(true);
				else void quit();
				return;
			}
		}
		keyHandler.current?.(input, key);
	}, [keyTick, screens]);

	const context = useMemo((): AppContextValue => ({
		width: Math.max(20, columns - 1),
		height: Math.max(6, rows - 1),
		color: !env.NO_COLOR,
		helpOpen,
		modal: helpOpen || quitQuestion || quitting,
		appStatus: quitting ? 'Stopping… (the repository is left consistent)' : quitQuestion ? 'An operation is running. Cancel it and quit? y = quit, n = keep going' : undefined,
		env,
		cwd,
		home: findHomeDirectory(env),
		store,
		profiles,
		reloadProfiles: () => setProfiles(store.listProfiles()),
		session,
		setSession,
		navigate,
		setTextMode: (on) => {
			textMode.current = on;
		},
		trackOperation: (operation) => {
			operations.current.add(operation);
			return () => operations.current.delete(operation);
		},
		memory,
		keyHandler,
		buildServiceCommand: serviceCommand,
		statePollMs,
	}), [columns, rows, env, helpOpen, quitQuestion, quitting, cwd, store, profiles, session, setSession, memory, serviceCommand, statePollMs]);

	return (
		<AppContext.Provider value={context}>
			<RouteView route={route} session={session} screens={screens} />
		</AppContext.Provider>
	);
}

/** The frame shown while the screens load (a few tenths of a second after start, at most). */
function LoadingScreen() {
	return (
		<ScreenFrame title="Starting" help={[]} status={{text: 'Loading…'}}>
			<Text> </Text>
		</ScreenFrame>
	);
}

/** The screen of a route. Routes that need a repository wait for it. */
function RouteView({route, session, screens}: {route: Route; session?: Session; screens?: Screens}) {
	if (route.name === 'welcome') return <WelcomeScreen />;
	if (screens === undefined) return <LoadingScreen />;
	const {QuickStartScreen, AddRepositoryScreen, RepositoriesScreen, UnlockScreen, SnapshotsScreen, BrowserScreen, DiffScreen, PreviewScreen, RestoreScreen, BackupScreen, RetentionScreen, CopyScreen, ServiceScreen} = screens;
	switch (route.name) {
		case 'quick-start':
			return <QuickStartScreen />;
		case 'add-repository':
			return <AddRepositoryScreen key={`${route.intent ?? 'connect'}:${route.edit?.name ?? ''}`} intent={route.intent} edit={route.edit} />;
		case 'repositories':
			return <RepositoriesScreen />;
		case 'service':
			return <ServiceScreen key={route.configPath} configPath={route.configPath} />;
		case 'unlock':
			return <UnlockScreen key={route.profile.name + route.profile.location} profile={route.profile} saveProfile={route.saveProfile} />;
		default:
			break;
	}
	if (session === undefined) return null;
	switch (route.name) {
		case 'snapshots':
			return <SnapshotsScreen session={session} />;
		case 'browser':
			return <BrowserScreen key={route.snapshot.id + (route.open ?? '')} session={session} snapshot={route.snapshot} open={route.open} />;
		case 'diff':
			return <DiffScreen key={route.before.id + route.after.id} session={session} before={route.before} after={route.after} />;
		case 'preview':
			return <PreviewScreen key={route.snapshot.id + route.path} session={session} snapshot={route.snapshot} path={route.path} node={route.node} />;
		case 'restore':
			return <RestoreScreen session={session} snapshot={route.snapshot} includes={route.includes} />;
		case 'backup':
			return <BackupScreen session={session} />;
		case 'retention':
			return <RetentionScreen session={session} />;
		case 'copy':
			return <CopyScreen session={session} snapshots={route.snapshots} />;
	}
}
