/**
 * Storage wrappers: each takes a Storage and returns one with an added behaviour.
 * Typical stacking, innermost first: adapter → withFaults (tests) → withLogging (logs every attempt)
 * → withRateLimits → withConcurrencyLimit → withRetry (outside the limit, so a backoff wait holds no slot).
 */

export {withConcurrencyLimit} from './concurrency.js';
export {withDryRun} from './dry-run.js';
export {failWith, withFaults, type Fault, type FaultErrorClass, type FaultInjectingStorage, type FaultRule, type FaultScript} from './faults.js';
export {withLatency} from './latency.js';
export {withLogging} from './logging.js';
export {ByteBucket, parseRateLimit, withRateLimits, type RateLimits} from './rate-limit.js';
export {withRetry, type RetryEvent, type RetryOptions} from './retry.js';
export {describeHandle, sleep, type StorageOperation} from './shared.js';
