// Jest on Node 20 cannot load ESM-only packages (jose 6, @nestjs 12, oauth4webapi 3,
// the @nats-io v3 client), so @swc/jest compiles our TypeScript and those packages to
// CommonJS. Type-checking is `npm run typecheck`, kept out of the test run for speed.
const esmOnly = ['jose', '@nestjs', '@nats-io', 'oauth4webapi', 'openid-client', 'uid', 'file-type', 'strtok3', 'token-types', 'peek-readable', '@tokenizer', 'uint8array-extras', 'load-esm'];
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)s$': ['@swc/jest', {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
    }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  testTimeout: 30000,
  globalSetup: '<rootDir>/test/support/build.cjs',
};
