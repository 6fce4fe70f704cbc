// Waits are generous: on a loaded machine (a busy 2-core CI runner) a cold first render
// has taken 8 to 14 s. A test may be slow there, never wrong, so nothing waits for a
// short, fixed time: findBy*/waitFor give up after 30 s, a test after 60 s
// (jest.config.js), and no assertion depends on how long a step took.
const { configure } = require('@testing-library/react-native');

configure({ asyncUtilTimeout: 30_000 });
