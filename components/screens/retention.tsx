/**
 * The retention policy of a profile: edit the rules, preview which snapshots each source keeps
 * (with the reasons) and which would go, then apply: forget the removed snapshots and prune the
 * data only they used. The policy is saved with the profile; nothing is removed before the user
 * confirms the preview.
 */
import {useEffect, useMemo, useRef, useState} from 'react';
import {Box, Text} from 'ink';
import {runForget} from '../../engine/retention/forget.js';
import {runPrune, type PruneProgress, type PruneReport} from '../../engine/prune/prune.js';
import {describePolicy, PolicyError, type RetentionPolicy} from '../../engine/retention/policy.js';
import {useAppContext} from '../ui/app-context.js';
import {useScreenKeys} from '../ui/keys.js';
import {ScreenFrame, useBodySize, type KeyHelp, type StatusMessage} from '../ui/screen-frame.js';
import {FormView, readFormKey} from '../ui/form-view.js';
import {createFormState, isFormValid, readFilledValues, reduceForm, type FormState} from '../state/form.js';
import {EMPTY_LIST, moveList, readListMove, visibleRange, type ListState} from '../state/list.js';
import {buildPolicy, previewRetention, RETENTION_FIELDS} from '../retention-plan.js';
import {describeError, type Session, type SnapshotList} from '../session.js';
import {fitText, formatBytes, formatLocalTime, formatRelativeTime, parseRepositoryTime, shortenId, truncateEnd} from '../format.js';

const EDIT_HELP: readonly KeyHelp[] = [
	{keys: 'Enter', action: 'preview'},
	{keys: '↑↓', action: 'field'},
	{keys: 'Esc', action: 'back'},
	{keys: 'Ctrl-U', action: 'clear the field', more: true},
];
const PREVIEW_HELP: readonly KeyHelp[] = [
	{keys: '↑↓', action: 'scroll'},
	{keys: 'a', action: 'apply'},
	{keys: 'Esc', action: 'edit'},
	{keys: 'a', action: 'apply: forget the removed snapshots, then prune (asks first)', more: true},
	{keys: 'PgUp PgDn', action: 'page up / down', more: true},
];
const RUN_HELP: readonly KeyHelp[] = [{keys: 'Esc', action: 'cancel (asks first)'}];
const DONE_HELP: readonly KeyHelp[] = [{keys: 'Enter Esc', action: 'back to the snapshots'}];

/** What the apply step did. */
interface Applied {
	readonly removed: number;
	readonly failed: number;
	readonly prune?: PruneReport;
	readonly pruneError?: string;
}

type Phase =
	| {readonly name: 'edit'; readonly message?: string}
	| {readonly name: 'preview'; readonly confirm: boolean}
	| {readonly name: 'running'; readonly step: string; readonly confirmCancel: boolean}
	| {readonly name: 'done'; readonly applied: Applied}
	| {readonly name: 'failed'; readonly message: string; readonly cancelled: boolean};

const PRUNE_PHASES: Record<PruneProgress['phase'], string> = {
	lock: 'taking the lock', index: 'reading the index', snapshots: 'reading the snapshots', trees: 'finding the data still used', plan: 'planning',
	'delete-unreferenced': 'deleting unreferenced packs', repack: 'repacking', 'write-index': 'writing the new index', 'delete-index': 'deleting old index files',
	'delete-packs': 'deleting unused packs', done: 'done',
};

/** The retention screen. */
export function RetentionScreen({session}: {session: Session}) {
	const {navigate, store, reloadProfiles, setSession, memory, trackOperation, color} = useAppContext();
	const {width, height} = useBodySize();
	const saved = store.findProfile(session.profile.name) ?? session.profile;
	const [form, setForm] = useState<FormState>(() => createFormState(RETENTION_FIELDS, saved.retention ?? {}));
	const [phase, setPhase] = useState<Phase>({name: 'edit'});
	const [list, setList] = useState<ListState>(EMPTY_LIST);
	const [loaded, setLoaded] = useState<SnapshotList | undefined>(session.cachedSnapshots);
	const abort = useRef<AbortController | undefined>(undefined);

	useEffect(() => {
		let live = true;
		session.loadSnapshots().then((snapshots) => live && setLoaded(snapshots), (error: unknown) => live && setPhase({name: 'edit', message: describeError(error)}));
		return () => {
			live = false;
		};
	}, [session]);

	const policy = useMemo((): RetentionPolicy | string => {
		try {
			return buildPolicy(readFilledValues(form, RETENTION_FIELDS));
		} catch (error) {
			return error instanceof PolicyError ? error.message : describeError(error);
		}
	}, [form]);
	const preview = useMemo(() => (typeof policy === 'string' || loaded === undefined ? undefined : previewRetention(loaded.snapshots, policy)), [policy, loaded]);
	const empty = typeof policy !== 'string' && preview !== undefined && preview.groups.length === 0;

	const savePolicy = (): void => {
		try {
			const current = store.findProfile(session.profile.name) ?? session.profile;
			const retention = readFilledValues(form, RETENTION_FIELDS);
			store.saveProfile({...current, retention: Object.keys(retention).length > 0 ? retention : undefined});
			reloadProfiles();
		} catch {
			// The preview and the apply work without it; saving is for next time.
		}
	};

	const apply = (): void => {
		if (typeof policy === 'string' || preview === undefined) return;
		const controller = new AbortController();
		abort.current = controller;
		setPhase({name: 'running', step: 'Removing the snapshots the policy does not keep…', confirmCancel: false});
		let lastUpdate = 0;
		const done = (async () => {
			try {
				const forgotten = await runForget(session.repo, {policy, now: Date.now(), signal: controller.signal});
				let prune: PruneReport | undefined;
				let pruneError: string | undefined;
				if (forgotten.removed.length > 0) {
					try {
						prune = await runPrune(session.repo, {
							signal: controller.signal,
							onProgress: (progress) => {
								const now = Date.now();
								if (now - lastUpdate < 200 && progress.phase !== 'done') return;
								lastUpdate = now;
								setPhase((current) => (current.name === 'running' ? {...current, step: `Pruning: ${PRUNE_PHASES[progress.phase]}${progress.total !== undefined ? ` (${progress.done} of ${progress.total})` : progress.done > 0 ? ` (${progress.done})` : ''}…`} : current));
							},
						});
					} catch (error) {
						if (controller.signal.aborted) throw error;
						pruneError = describeError(error);
					}
				}
				// The prune rewrote the index: open the repository again before browsing.
				const fresh = await session.reopen().catch(() => undefined);
				memory.clear();
				if (fresh !== undefined) setSession(fresh);
				else session.forgetSnapshots();
				setPhase({name: 'done', applied: {removed: forgotten.removed.length, failed: forgotten.failed.length, prune, pruneError}});
			} catch (error) {
				setPhase({name: 'failed', message: describeError(error), cancelled: controller.signal.aborted});
			}
		})();
		const untrack = trackOperation({cancel: () => controller.abort(), done});
		void done.finally(untrack);
	};

	const rowsHeight = Math.max(1, height - 3);
	useScreenKeys((input, key) => {
		switch (phase.name) {
			case 'edit': {
				if (key.escape) {
					savePolicy();
					navigate({type: 'pop'});
					return;
				}
				const result = readFormKey(input, key, RETENTION_FIELDS, form);
				if (result === undefined || result.type === 'complete') return;
				if (result.type === 'submit') {
					const checked = reduceForm(form, {type: 'check-all'}, RETENTION_FIELDS);
					setForm(checked);
					if (!isFormValid(checked, RETENTION_FIELDS) || typeof policy === 'string') return;
					if (empty) {
						setPhase({name: 'edit', message: 'The policy has no rule yet: fill in at least one, e.g. Keep daily 7.'});
						return;
					}
					savePolicy();
					setList(EMPTY_LIST);
					setPhase({name: 'preview', confirm: false});
					return;
				}
				setForm((current) => reduceForm(current, result, RETENTION_FIELDS));
				if (phase.message !== undefined) setPhase({name: 'edit'});
				return;
			}
			case 'preview': {
				if (phase.confirm) {
					if (input === 'y' || input === 'Y') apply();
					else setPhase({name: 'preview', confirm: false});
					return;
				}
				const move = readListMove(input, key);
				if (move !== undefined) setList(moveList(list, move, {count: preview?.rows.length ?? 0, height: rowsHeight}));
				else if (key.escape) setPhase({name: 'edit'});
				else if (input === 'a' && preview !== undefined && preview.remove > 0 && preview.emptied.length === 0) setPhase({name: 'preview', confirm: true});
				return;
			}
			case 'running':
				if (phase.confirmCancel) {
					if (input === 'y' || input === 'Y') abort.current?.abort();
					setPhase({...phase, confirmCancel: false, step: input === 'y' || input === 'Y' ? 'Stopping… (the repository is left consistent)' : phase.step});
				} else if (key.escape) setPhase({...phase, confirmCancel: true});
				return;
			case 'done':
			case 'failed':
				if (key.return || key.escape) navigate({type: 'pop'});
				return;
		}
	});

	const title = `${session.profile.name} › Retention`;
	if (phase.name === 'edit') {
		let status: StatusMessage;
		if (phase.message !== undefined) status = {text: phase.message, tone: 'error'};
		else if (typeof policy === 'string') status = {text: policy, tone: 'error'};
		else if (preview === undefined) status = {text: 'Loading the snapshots…'};
		else if (empty) status = {text: `No rule yet: all ${preview.keep} snapshots are kept. Fill in a rule, then Enter previews it.`};
		else status = {text: `This policy keeps ${preview.keep} and removes ${preview.remove} of ${preview.keep + preview.remove} snapshots. Enter shows which.`, tone: preview.remove > 0 ? 'warning' : 'info'};
		return (
			<ScreenFrame title={title} help={EDIT_HELP} textMode status={status}>
				<Box flexDirection="column" paddingX={1}>
					<Text>{truncateEnd('Which snapshots to keep, per source (host and paths). Saved with the profile.', width - 2)}</Text>
					<Text> </Text>
					<FormView fields={RETENTION_FIELDS} state={form} width={width - 2} height={height - 4} />
					<Text dimColor>{truncateEnd(typeof policy === 'string' ? ' ' : describePolicy(policy), width - 2)}</Text>
				</Box>
			</ScreenFrame>
		);
	}
	if (phase.name === 'preview' && preview !== undefined) {
		const view = {count: preview.rows.length, height: rowsHeight};
		const {start, end} = visibleRange(list, view);
		const now = Date.now();
		let status: StatusMessage;
		if (phase.confirm) status = {text: `Remove ${preview.remove} snapshot${preview.remove === 1 ? '' : 's'} and prune the data only they use? y = apply, other keys = no`, tone: 'warning'};
		else if (preview.emptied.length > 0) status = {text: `The policy keeps nothing of ${preview.emptied.join('; ')}: add a rule that keeps some (e.g. Keep latest 1).`, tone: 'error'};
		else if (preview.remove === 0) status = {text: 'Nothing to remove: every snapshot is kept.', tone: 'success'};
		else status = {text: `a applies: ${preview.remove} snapshot${preview.remove === 1 ? '' : 's'} removed, then the data only they use is pruned.`, tone: 'warning'};
		return (
			<ScreenFrame title={`${title} › Preview`} help={PREVIEW_HELP} status={status}>
				<Box flexDirection="column">
					<Text bold>{truncateEnd(`Keeps ${preview.keep}, removes ${preview.remove}${preview.unreadable > 0 ? `, ${preview.unreadable} unreadable left alone` : ''} · ${describePolicy(policy as RetentionPolicy)}`, width)}</Text>
					<Box flexDirection="column" height={rowsHeight}>
						{preview.rows.slice(start, end).map((row, offset) => {
							const index = start + offset;
							const current = index === list.cursor;
							if (row.type === 'group') {
								return (
									<Text key={`g${index}`} bold inverse={current} color={color && !current ? 'cyan' : undefined}>
										{fitText(`${row.label}: keeps ${row.keep}, removes ${row.remove}`, width)}
									</Text>
								);
							}
							const date = parseRepositoryTime(row.snapshot.time);
							const text = `  ${row.keep ? 'keep  ' : 'remove'}  ${shortenId(row.snapshot.id)}  ${fitText(formatLocalTime(date), 17)}${fitText(formatRelativeTime(date, now), 12)}${row.keep ? row.reasons.join(', ') : ''}`;
							return (
								<Text key={row.snapshot.id} inverse={current} dimColor={!current && !row.keep} color={color && !current ? (row.keep ? 'green' : 'red') : undefined}>
									{fitText(text, width)}
								</Text>
							);
						})}
					</Box>
				</Box>
			</ScreenFrame>
		);
	}
	if (phase.name === 'running') {
		return (
			<ScreenFrame title={title} help={RUN_HELP} status={phase.confirmCancel ? {text: 'Stop? y = stop (the repository stays consistent), n = keep going', tone: 'warning'} : {text: phase.step}}>
				<Box flexDirection="column" paddingX={1}>
					<Text bold>Applying the retention policy</Text>
					<Text> </Text>
					<Text>{truncateEnd(phase.step, width - 2)}</Text>
				</Box>
			</ScreenFrame>
		);
	}
	if (phase.name === 'failed') {
		return (
			<ScreenFrame title={title} help={DONE_HELP} status={{text: phase.cancelled ? 'Stopped.' : 'The policy could not be applied.', tone: phase.cancelled ? 'warning' : 'error'}}>
				<Box flexDirection="column" paddingX={1}>
					<Text bold>{phase.cancelled ? 'Stopped.' : 'The policy could not be applied:'}</Text>
					<Text wrap="wrap">{phase.cancelled ? 'The repository is consistent: snapshots already removed stay removed, and the next prune finishes freeing their data.' : phase.message}</Text>
				</Box>
			</ScreenFrame>
		);
	}
	if (phase.name === 'done') {
		const {applied} = phase;
		const lines: string[] = [`Removed ${applied.removed} snapshot${applied.removed === 1 ? '' : 's'}${applied.failed > 0 ? ` (${applied.failed} could not be removed)` : ''}.`];
		if (applied.prune !== undefined) {
			lines.push(`Prune freed ${formatBytes(applied.prune.bytes.removeTotal)}: ${applied.prune.packs.removeTotal} pack file${applied.prune.packs.removeTotal === 1 ? '' : 's'} deleted, ${applied.prune.packsWritten} written.`);
			if (applied.prune.deleteFailures.length > 0) lines.push(`${applied.prune.deleteFailures.length} pack files could not be deleted; the next prune tries again.`);
		}
		if (applied.pruneError !== undefined) lines.push(`The prune failed: ${applied.pruneError}`);
		return (
			<ScreenFrame title={title} help={DONE_HELP} status={applied.pruneError !== undefined ? {text: 'Snapshots removed, but the prune failed.', tone: 'warning'} : {text: 'Retention policy applied.', tone: 'success'}}>
				<Box flexDirection="column" paddingX={1}>
					{lines.map((line, index) => (
						<Text key={index} wrap="wrap">{line}</Text>
					))}
				</Box>
			</ScreenFrame>
		);
	}
	return (
		<ScreenFrame title={title} help={EDIT_HELP} status={{text: 'Loading the snapshots…'}}>
			<Text> </Text>
		</ScreenFrame>
	);
}
