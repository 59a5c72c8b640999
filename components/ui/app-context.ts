/**
 * What every screen can reach: the terminal size, colour, the open repository, navigation,
 * the saved profiles and a place to keep screen state across visits.
 */
import {createContext, useContext, useEffect, useReducer, type Dispatch, type MutableRefObject, type Reducer} from 'react';
import type {KeyHandler} from './keys.js';
import type {NavigationAction} from '../state/navigation.js';
import type {Profile, ProfileStore} from '../profiles.js';
import type {Session} from '../session.js';
import type {ServiceCommandBuilder} from '../service-command.js';

/** A running engine operation the app must stop before it quits. */
export interface TrackedOperation {
	/** Asks the operation to stop (aborts its signal). */
	cancel(): void;
	/** Settles when the operation has stopped. */
	readonly done: Promise<unknown>;
}

/** The app-wide context value. */
export interface AppContextValue {
	/** Columns usable by the app. */
	readonly width: number;
	/** Rows usable by the app (one less than the terminal, so that nothing ever scrolls). */
	readonly height: number;
	/** False when NO_COLOR is set: text keeps bold and inverse but no colours. */
	readonly color: boolean;
	/** The help overlay is open. */
	readonly helpOpen: boolean;
	/** Something above the screen (help, quit question) takes the keys. */
	readonly modal: boolean;
	/** A line the app shows instead of the screen's status (quit question, quitting). */
	readonly appStatus?: string;
	/** The environment (paths, NO_COLOR). */
	readonly env: Readonly<Record<string, string | undefined>>;
	/** The directory relative paths are resolved against. */
	readonly cwd: string;
	/** The user's home directory, for `~`. */
	readonly home: string;
	readonly store: ProfileStore;
	readonly profiles: readonly Profile[];
	/** Reads the profiles from the store again. */
	reloadProfiles(): void;
	/** The open repository, when one is. */
	readonly session?: Session;
	/** Makes a session current (after opening or creating a repository). */
	setSession(session: Session): void;
	navigate: Dispatch<NavigationAction>;
	/** Tells the app whether a text field has the keys (then `q` and `?` are typed, not commands). */
	setTextMode(on: boolean): void;
	/** Registers a running operation; call the returned function when it has ended. */
	trackOperation(operation: TrackedOperation): () => void;
	/** Screen state kept while the repository stays open. */
	readonly memory: Map<string, unknown>;
	/** The key handler of the screen shown (see useScreenKeys). */
	readonly keyHandler: MutableRefObject<KeyHandler | undefined>;
	/** Builds the command line of `cairn service ...` runs started from the Service screen (default: the CLI of this build). */
	readonly buildServiceCommand?: ServiceCommandBuilder;
	/** How often the Service screen polls the state file when it cannot watch it, in ms. */
	readonly statePollMs?: number;
}

/** Provided by the app root; read it with {@link useAppContext}. */
export const AppContext = createContext<AppContextValue | undefined>(undefined);

/** The app context; throws outside the app. */
export function useAppContext(): AppContextValue {
	const value = useContext(AppContext);
	if (value === undefined) throw new Error('useAppContext must be used inside <App>');
	return value;
}

/**
 * useReducer whose state survives the screen being left and shown again (e.g. the snapshot list's
 * cursor after coming back from the browser). Kept in the app's memory under `key`.
 */
export function usePersistentReducer<S, A>(key: string, reducer: Reducer<S, A>, create: () => S): [S, Dispatch<A>] {
	const {memory} = useAppContext();
	const [state, dispatch] = useReducer(reducer, undefined, () => (memory.has(key) ? (memory.get(key) as S) : create()));
	useEffect(() => {
		memory.set(key, state);
	}, [memory, key, state]);
	return [state, dispatch];
}
