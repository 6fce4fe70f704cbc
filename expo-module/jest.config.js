const path = require('path');

const reactNative = path.dirname(require.resolve('react-native/package.json'));

/** The module's own suite: its TypeScript over the real core (mocks/ExpoLocalFirst.ts). */
module.exports = {
  preset: 'jest-expo',
  roots: ['<rootDir>/src', '<rootDir>/plugin/src'],
  testMatch: ['**/__tests__/**/*.test.ts?(x)'],
  clearMocks: true,
  // Generous on a loaded machine (see jest.setup.js): slow is allowed, wrong is not.
  testTimeout: 60_000,
  setupFilesAfterEnv: ['<rootDir>/jest.setup.js'],
  moduleNameMapper: {
    // react-native 0.88.1 exposes this entry point through `exports`, which the React Native
    // jest preset served here (0.88.0-rc.1) strips without aliasing it (expo-asset needs it).
    '^react-native/unstable-internals-do-not-use$': path.join(
      reactNative,
      'src/unstable-internals-do-not-use.js',
    ),
  },
};
