import {useRef} from 'react';
import {useInput} from 'ink';
import {afterEach, describe, expect, it} from 'vitest';
import type {Snapshot} from '../../engine/format/snapshot.js';
import {AppContext, type AppContextValue} from '../../components/ui/app-context.js';
import type {KeyHandler} from '../../components/ui/keys.js';
import {SnapshotsScreen} from '../../components/screens/snapshots.js';
import type {Session} from '../../components/session.js';
import {checkFrameFits, KEYS, press, renderSized, SMALL, waitForFrame} from './harness.js';
import {TreeStatsCounter} from '../../components/snapshot-stats.js';

/** A session that only knows its snapshots (newest first); their stats are recorded in them. */
function createFakeSession(snapshots: Snapshot[]): Session {
	const list = {snapshots, unreadable: 0};
	const stats = new TreeStatsCounter({load: async () => []});
	return {profile: {name: 'big', location: 'local:/big'}, cachedSnapshots: undefined, loadSnapshots: async () => list, stats, ensureIndex: async () => undefined} as unknown as Session;
}

function Harness({session}: {session: Session}) {
	const keyHandler = useRef<KeyHandler | undefined>(undefined);
	const memory = useRef(new Map<string, unknown>()).current;
	useInput((input, key) => keyHandler.current?.(input, key));
	const context: AppContextValue = {
		width: 79, height: 23, color: false, helpOpen: false, modal: false, env: {}, cwd: '/', home: '/',
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
	it('draws only the visible rows and stays fluid when moving, paging, jumping, filtering and sorting', async () => {
		const base = Date.UTC(2020, 0, 1);
		// 20 sources (host and path) of 500 snapshots each.
		const snapshots: Snapshot[] = Array.from({length: 10_000}, (_, i) => ({
			id: i.toString(16).padStart(8, '0') + 'f'.repeat(56),
			time: new Date(base + (10_000 - i) * 3_600_000).toISOString(),
			tree: '0'.repeat(64),
			paths: [`/data/set-${i % 20}`],
			hostname: `host-${i % 5}`,
			tags: i % 100 === 0 ? ['monthly'] : [],
			summary: {total_files_processed: i, total_bytes_processed: i * 1024},
		}));
		const app = renderSized(<Harness session={createFakeSession(snapshots)} />, SMALL);
		cleanup = app.cleanup;
		const rows = (frame: string): string[] => frame.split('\n').filter((line) => /^ {2}(› | {2})[0-9a-f]{8} {2}/.test(line));
		const headings = (frame: string): string[] => frame.split('\n').filter((line) => /^[› ] [▾▸] /.test(line));
		const first = await waitForFrame(app.lastFrame, '10000 snapshots from 20 sources');
		checkFrameFits(first, SMALL);
		// One heading and the rows that fit below it.
		expect(headings(first)).toHaveLength(1);
		expect(rows(first)).toHaveLength(SMALL.rows - 1 - 7);
		expect(rows(first)[0]).toContain('00000000');
		expect(headings(first)[0]).toContain('host-0  /data/set-0  (500)');

		await press(app.stdin, KEYS.end);
		const last = await waitForFrame(app.lastFrame, '› 0000270f');
		expect(rows(last).length + headings(last).length).toBe(SMALL.rows - 1 - 6);
		// A page is 17 rows; row 18 is the 18th snapshot of the first source (every 20th ID).
		await press(app.stdin, KEYS.home);
		await waitForFrame(app.lastFrame, /^› ▾ host-0/m);
		await press(app.stdin, KEYS.pageDown, KEYS.down);
		await waitForFrame(app.lastFrame, `› ${(17 * 20).toString(16).padStart(8, '0')}`);
		await press(app.stdin, '/', 'm', 'o', 'n', 't', 'h', 'l', 'y', KEYS.enter);
		const filtered = await waitForFrame(app.lastFrame, 'Filter "monthly": 100 of 10000 snapshots');
		expect(rows(filtered).every((row) => row.includes('#monthly'))).toBe(true);
		await press(app.stdin, KEYS.escape, 's', 's');
		const largest = await waitForFrame(app.lastFrame, 'largest first');
		// The largest snapshot (recorded in its summary) comes first.
		expect(rows(largest)[0]).toContain('0000270f');
	});
});
