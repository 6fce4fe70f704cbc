/**
 * What the module keeps for the life of the JavaScript process (the hooks' shared state,
 * native calls and vault flows in flight), and one way to forget all of it: the jest mock's
 * `resetSecretMemory()` calls `resetProcessState()` so that each test starts on a fresh
 * "device".
 *
 * The resetters are kept on the global object, not in this module: a test's module registry
 * may hold more than one copy of the module (the mock imports `src/`, an app's code may
 * resolve the package's `build/`), and a reset must reach every copy.
 */

const RESETTERS = Symbol.for('expo-localfirst.process-state-resetters');

type Registry = { [RESETTERS]?: Set<() => void> };

function resetters(): Set<() => void> {
  const registry = globalThis as Registry;
  registry[RESETTERS] ??= new Set();
  return registry[RESETTERS];
}

/** Registers `reset`, which forgets one cache of the module, for `resetProcessState()`. */
export function onProcessStateReset(reset: () => void): void {
  resetters().add(reset);
}

/** Forgets everything every copy of the module caches (for tests: a fresh "device"). */
export function resetProcessState(): void {
  for (const reset of resetters()) {
    reset();
  }
}
