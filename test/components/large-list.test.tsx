import {useRef} from 'react';
import {render} from 'ink-testing-library';
import {useInput} from 'ink';
import {afterEach, describe, expect, it} from 'vitest';
import type {Snapshot} from '../../engine/format/snapshot.js';
import {AppContext, type AppContextValue} from '../../components/ui/app-context.js';
import type {KeyHandler} from '../../components/ui/keys.js';
import {SnapshotsScreen} from '../../components/screens/snapshots.js';
import type {Session} from '../../components/session.js';
import {KEYS, press, waitForFrame} from './harness.js';

/** A session that only knows its snapshots (newest first). */
function createFakeSession(snapshots: Snapshot[]): Session {
	const list = {snapshots, unreadable: 0};
	return {profile: {name: 'big', location: 'local:/big'}, cachedSnapshots: undefined, loadSnapshots: async () => list} as unknown as Session;
}

function Harness({session}: {session: Session}) {
	const keyHandler = useRef<KeyHandler | undefined>(undefined);
	const memory = useRef(new Map<string, unknown>()).current;
	useInput((input, key) => keyHandler.current?.(input, key));
	const context: AppContextValue = {
		width: 99, height: 23, color: false, helpOpen: false, modal: false, env: {}, cwd: '/', home: '/',
		store: {path: '', listProfiles: () => [], findProfile: () => undefined, saveProfile: () => undefined, replaceProfile: () => undefined, removeProfile: () => undefined},
		profiles: [], reloadProfiles: () => undefined, session, setSession: () => undefined, navigate: () => undefined,
		setTextMode: () => undefined, trackOperation: () => () => undefined, memory, keyHandler,
	};
	return (
		<AppContext.Provider value={context}>
			<SnapshotsScreen session={session} />
		</AppContext.Provider>
	);
}

let cleanup: (() => void) | undefined;
afterEach(() => {
	cleanup?.();
	cleanup = undefined;
});

describe('10,000 snapshots', () => {
	it('draws only the visible rows and stays fast when moving, paging, jumping and filtering', async () => {
		const base = Date.UTC(2020, 0, 1);
		const snapshots: Snapshot[] = Array.from({length: 10_000}, (_, i) => ({
			id: i.toString(16).padStart(8, '0') + 'f'.repeat(56),
			time: new Date(base + (10_000 - i) * 3_600_000).toISOString(),
			tree: '0'.repeat(64),
			paths: [`/data/set-${i}`],
			hostname: `host-${i % 5}`,
			tags: i % 100 === 0 ? ['monthly'] : [],
		}));
		const app = render(<Harness session={createFakeSession(snapshots)} />);
		cleanup = app.cleanup;
		const first = await waitForFrame(app.lastFrame, '10000 snapshots');
		const rows = (frame: string): string[] => frame.split('\n').filter((line) => /^(› | {2})[0-9a-f]{8} {2}/.test(line));
		expect(rows(first)).toHaveLength(18);
		expect(first.split('\n').length).toBeLessThanOrEqual(23);
		expect(rows(first)[0]).toContain('00000000');

		const started = performance.now();
		await press(app.stdin, KEYS.end);
		const last = await waitForFrame(app.lastFrame, '› 0000270f');
		expect(rows(last)).toHaveLength(18);
		await press(app.stdin, KEYS.home, KEYS.pageDown, KEYS.down);
		await waitForFrame(app.lastFrame, '› 00000013');
		await press(app.stdin, '/', 'm', 'o', 'n', 't', 'h', 'l', 'y', KEYS.enter);
		const filtered = await waitForFrame(app.lastFrame, 'Filter "monthly": 100 of 10000 snapshots');
		expect(rows(filtered)).toHaveLength(18);
		expect(rows(filtered).every((row) => row.includes('#monthly'))).toBe(true);
		expect(performance.now() - started).toBeLessThan(5_000);
	});
});
