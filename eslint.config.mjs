// @ts-check
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';


/**
 * The module direction of the design brief: common ← users ← security ← trading, monitoring,
 * reporting ← api. A module may import only from modules to its left (system, the health and
 * status endpoints, sits beside api). Imports are relative, so the rule matches the module name
 * as the first folder after the `../` run.
 */
const direction = [
  { files: ['src/common/**/*.ts'], forbidden: ['users', 'security', 'trading', 'monitoring', 'reporting', 'api', 'system'] },
  { files: ['src/users/**/*.ts'], forbidden: ['security', 'trading', 'monitoring', 'reporting', 'api', 'system'] },
  { files: ['src/security/**/*.ts'], forbidden: ['trading', 'monitoring', 'reporting', 'api', 'system'] },
  { files: ['src/trading/**/*.ts', 'src/monitoring/**/*.ts', 'src/reporting/**/*.ts'], forbidden: ['api', 'system'] },
].map(({ files, forbidden }) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: `^(\\.\\./)+(${forbidden.join('|')})/`,
            message: 'Module direction: common ← users ← security ← trading, monitoring, reporting ← api (DESIGN.md).',
          },
        ],
      },
    ],
  },
}));

/**
 * The data-access rule of CONTRIBUTING.md: repositories own SQL, services hold none. Outside a
 * `*.repository.ts` (and the database plumbing in common/database, and the hand-written
 * migrations), no code sends a statement or reaches an entity repository: it calls a named
 * repository method.
 */
const noSqlOutsideRepositories = {
  files: ['src/**/*.ts'],
  ignores: ['src/**/*.repository.ts', 'src/common/database/**'],
  rules: {
    'no-restricted-syntax': [
      'error',
      ...['query', 'createQueryBuilder', 'getRepository'].map((method) => ({
        selector: `CallExpression[callee.property.name='${method}']`,
        message: `No SQL outside a repository: move this ${method}() into the aggregate's *.repository.ts as a named method (CONTRIBUTING.md, "Data access: the rule").`,
      })),
    ],
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'jest.config.js', 'eslint.config.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  prettier,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unsafe-function-type': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/require-await': 'off',
      'no-console': 'error',
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
      'no-console': 'off',
    },
  },
  noSqlOutsideRepositories,
  ...direction,
);
