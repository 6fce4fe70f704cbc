const path = require('path');

const reactNative = path.dirname(require.resolve('react-native/package.json'));

/**
 * The example's screen, driven as a user would, with jest-expo: expo-localfirst's native module
 * is its shipped mock, which runs the real core through @localfirst/node.
 */
module.exports = {
  preset: 'jest-expo',
  roots: ['<rootDir>/__tests__'],
  // Generous on a loaded machine (see jest.setup.js): slow is allowed, wrong is not.
  testTimeout: 60_000,
  setupFilesAfterEnv: ['<rootDir>/jest.setup.js'],
  moduleNameMapper: {
    // See expo-module/jest.config.js: react-native 0.88.1 with the 0.88.0-rc.1 jest preset.
    '^react-native/unstable-internals-do-not-use$': path.join(
      reactNative,
      'src/unstable-internals-do-not-use.js',
    ),
  },
};
