// jest for the new app: jest-expo's preset, which swaps expo-localfirst's native module for
// the package's mocks/ExpoLocalFirst (the real core through @localfirst/node).
const path = require('path');

const reactNative = path.dirname(require.resolve('react-native/package.json'));

module.exports = {
  preset: 'jest-expo',
  roots: ['<rootDir>/__tests__'],
  // A cold first render on a loaded 2-core machine has taken over 10 s.
  testTimeout: 60_000,
  moduleNameMapper: {
    // react-native 0.88.1 exposes this entry point only through `exports`, which its jest
    // preset (0.88.0-rc.1) strips without an alias; expo-asset imports it.
    '^react-native/unstable-internals-do-not-use$': path.join(
      reactNative,
      'src/unstable-internals-do-not-use.js',
    ),
  },
};
