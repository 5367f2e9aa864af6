// Lint: typescript-eslint with type information, plus the import fences from STYLE.md.
import tseslint from 'typescript-eslint';

const clientNodeFence = {
  name: '@kubernetes/client-node',
  message: 'Only src/kube/ talks to the Kubernetes client; use the KubeClient port.',
};
const sdkFence = (group) => ({ group, message: 'Each cloud SDK is imported only inside its provider folder.' });
const sdkPatterns = [
  sdkFence(['@aws-sdk/*']),
  sdkFence(['@google-cloud/*', 'google-gax']),
  sdkFence(['@azure/*']),
  sdkFence(['node-vault']),
];

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'coverage/**', '.cluster/**', '*.config.js', 'eslint.config.js'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  { files: ['src/**/*.ts'], rules: { 'no-restricted-imports': ['error', { paths: [clientNodeFence], patterns: sdkPatterns }] } },
  { files: ['src/kube/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: sdkPatterns }] } },
  { files: ['src/providers/aws/**/*.ts'], rules: { 'no-restricted-imports': ['error', { paths: [clientNodeFence] }] } },
  { files: ['src/providers/gcp/**/*.ts'], rules: { 'no-restricted-imports': ['error', { paths: [clientNodeFence] }] } },
  { files: ['src/providers/azure/**/*.ts'], rules: { 'no-restricted-imports': ['error', { paths: [clientNodeFence] }] } },
  { files: ['src/providers/vault/**/*.ts'], rules: { 'no-restricted-imports': ['error', { paths: [clientNodeFence] }] } },
  { files: ['**/*.test.ts', 'e2e/**/*.ts', 'bench/**/*.ts'], rules: { 'max-lines-per-function': 'off' } },
);
