/**
 * A promise kept while it succeeds and forgotten when it fails: for answers a store asks once and
 * reuses (an authorization, a bucket ID, a check that the container exists), where a failure must
 * not stick (the next call asks again).
 */

/** Holds the answer of `ask`, asked at most once at a time. */
export class Remembered<T> {
	private pending: Promise<T> | undefined;

	/** The kept answer, or a new one from `ask` when there is none (or `fresh` is set). */
	get(ask: () => Promise<T>, fresh = false): Promise<T> {
		if (this.pending === undefined || fresh) {
			const pending = ask();
			this.pending = pending;
			pending.catch(() => {
				if (this.pending === pending) this.pending = undefined;
			});
		}
		return this.pending;
	}

	/** Forgets the kept answer if `stale` says it is out of date (e.g. a token the service refused). */
	forgetIf(stale: (answer: T) => boolean): void {
		const current = this.pending;
		void current?.then(
			(answer) => {
				if (this.pending === current && stale(answer)) this.pending = undefined;
			},
			() => undefined,
		);
	}
}
