/**
 * Every screen but the welcome screen. The app loads this module right after its first frame
 * (see app.tsx): these screens bring in the engine and the storage adapters, which the first
 * frame does not need and which take longer to load than everything else together.
 */
export {QuickStartScreen} from './quick-start.js';
export {AddRepositoryScreen} from './add-repository.js';
export {RepositoriesScreen} from './repositories.js';
export {UnlockScreen} from './unlock.js';
export {SnapshotsScreen} from './snapshots.js';
export {BrowserScreen} from './browser.js';
export {DiffScreen} from './diff.js';
export {PreviewScreen} from './preview.js';
export {RestoreScreen} from './restore.js';
export {BackupScreen} from './backup.js';
export {RetentionScreen} from './retention.js';
export {CopyScreen} from './copy.js';
export {ServiceScreen} from './service.js';
