/**
 * The settings of a backup before it starts: the paths, exclude patterns and tags, each a list
 * with a line to type the next item. Pure functions only; the screen checks that paths exist.
 */

/** The three lists of the backup form, in the order shown. */
export const BACKUP_LISTS = ['paths', 'excludes', 'tags'] as const;

/** One of {@link BACKUP_LISTS}. */
export type BackupList = (typeof BACKUP_LISTS)[number];

/** The state of the backup form. */
export interface BackupFormState {
	readonly paths: readonly string[];
	readonly excludes: readonly string[];
	readonly tags: readonly string[];
	/** The list whose input line has the keys. */
	readonly focus: BackupList;
	/** What is typed on each list's input line. */
	readonly inputs: Readonly<Record<BackupList, string>>;
	/** A problem to show (a path that does not exist, nothing to back up). */
	readonly error?: string;
}

/** Changes to a {@link BackupFormState}. */
export type BackupFormAction =
	| {readonly type: 'type'; readonly value: string}
	| {readonly type: 'add'; readonly list: BackupList; readonly items: readonly string[]}
	| {readonly type: 'remove-last'}
	| {readonly type: 'focus'; readonly direction: 1 | -1}
	| {readonly type: 'error'; readonly error?: string};

/** A form with the given lists (e.g. those of the last backup) and the keys on the paths. */
export function createBackupForm(initial: Partial<Pick<BackupFormState, 'paths' | 'excludes' | 'tags'>> = {}): BackupFormState {
	return {paths: initial.paths ?? [], excludes: initial.excludes ?? [], tags: initial.tags ?? [], focus: 'paths', inputs: {paths: '', excludes: '', tags: ''}};
}

/** Splits typed tags (`daily, work` or `daily work`) into tags. */
export function parseTagInput(text: string): string[] {
	return text.split(/[,\s]+/).map((tag) => tag.trim()).filter(Boolean);
}

/** Reducer of {@link BackupFormState}. Items already in a list are not added twice. */
export function reduceBackupForm(state: BackupFormState, action: BackupFormAction): BackupFormState {
	switch (action.type) {
		case 'type':
			return state.inputs[state.focus] === action.value ? state : {...state, inputs: {...state.inputs, [state.focus]: action.value}, error: undefined};
		case 'add': {
			const fresh = action.items.filter((item, index) => item !== '' && !state[action.list].includes(item) && action.items.indexOf(item) === index);
			return {...state, [action.list]: [...state[action.list], ...fresh], inputs: {...state.inputs, [action.list]: ''}, error: undefined};
		}
		case 'remove-last': {
			const list = state[state.focus];
			if (state.inputs[state.focus] !== '' || list.length === 0) return state;
			return {...state, [state.focus]: list.slice(0, -1), error: undefined};
		}
		case 'focus': {
			const index = BACKUP_LISTS.indexOf(state.focus);
			const next = BACKUP_LISTS[(index + action.direction + BACKUP_LISTS.length) % BACKUP_LISTS.length]!;
			return next === state.focus ? state : {...state, focus: next};
		}
		case 'error':
			return state.error === action.error ? state : {...state, error: action.error};
	}
}
