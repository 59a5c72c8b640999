/**
 * Where an archive or a file is written: an async sink that resolves each write once the bytes
 * are accepted (so a slow reader holds the producer back instead of filling memory).
 */
import type {Writable} from 'node:stream';

/** An async byte sink. */
export interface ByteSink {
	/** Writes the bytes; resolves when they are accepted. */
	write(bytes: Uint8Array): Promise<void>;
}

/** A sink over a Node stream that waits for 'drain' when the stream's buffer is full. */
export function sinkFromStream(stream: Writable): ByteSink {
	return {
		write(bytes) {
			return new Promise<void>((resolve, reject) => {
				const onError = (error: Error): void => reject(error);
				stream.once('error', onError);
				const ok = stream.write(bytes, (error) => {
					if (error) reject(error);
				});
				const done = (): void => {
					stream.off('error', onError);
					resolve();
				};
				if (ok) done();
				else stream.once('drain', done);
			});
		},
	};
}

/** A sink that counts bytes while passing them on. */
export class CountingSink implements ByteSink {
	written = 0;
	constructor(private readonly inner: ByteSink) {}
	async write(bytes: Uint8Array): Promise<void> {
		this.written += bytes.length;
		await this.inner.write(bytes);
	}
}
