import {defineConfig} from 'vitest/config';

export default defineConfig({
	test: {
		include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
		globalSetup: ['test/helpers/global-cache.ts'],
		testTimeout: 120_000,
		hookTimeout: 120_000,
		pool: 'forks',
		poolOptions: {forks: {maxForks: 2}},
		reporters: ['default', 'json'],
		outputFile: {json: '.vitest/results.json'},
	},
});
