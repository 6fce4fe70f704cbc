/**
 * The Swift and Kotlin modules cannot be compiled here, so this suite checks, as text, that
 * they expose the same surface as the TypeScript side and the jest mock: one module name, the
 * same functions, the same ones asynchronous, the same store options.
 */
import { readFileSync } from 'fs';
import { join } from 'path';

import * as mock from '../../mocks/ExpoLocalFirst';

const root = join(__dirname, '../..');
const swift = readFileSync(join(root, 'ios/ExpoLocalFirstModule.swift'), 'utf8');
const kotlin = readFileSync(
  join(root, 'android/src/main/java/dev/localfirst/expo/ExpoLocalFirstModule.kt'),
  'utf8',
);
const typescript = readFileSync(join(root, 'src/ExpoLocalFirstModule.ts'), 'utf8');

function declared(source: string, kind: 'Function' | 'AsyncFunction'): string[] {
  return [...source.matchAll(new RegExp(`(?<![A-Za-z])${kind}\\("([A-Za-z]+)"\\)`, 'g'))]
    .map((m) => m[1]!)
    .sort();
}

/** Members of the `ExpoLocalFirstModule` interface, and which return a Promise. */
function interfaceMembers(): { all: string[]; async: string[] } {
  const body = typescript.slice(typescript.indexOf('export interface ExpoLocalFirstModule'));
  const members = [...body.matchAll(/^ {2}([A-Za-z]+)\([^)]*\): ([^;]+);/gm)];
  return {
    all: members.map((m) => m[1]!).sort(),
    async: members.filter((m) => m[2]!.startsWith('Promise')).map((m) => m[1]!).sort(),
  };
}

const mockFunctions = Object.keys(mock)
  .filter((name) => !['resetSecretMemory', 'simulatedAuthenticator'].includes(name))
  .sort();

test('one module name everywhere', () => {
  expect(swift).toContain('Name("ExpoLocalFirst")');
  expect(kotlin).toContain('Name("ExpoLocalFirst")');
  expect(typescript).toContain("requireNativeModule<ExpoLocalFirstModule>('ExpoLocalFirst')");
});

test('Swift, Kotlin, the TypeScript interface and the mock have the same functions', () => {
  const { all, async } = interfaceMembers();
  expect(all.length).toBe(21);
  expect(mockFunctions).toEqual(all);
  for (const source of [swift, kotlin]) {
    expect([...declared(source, 'Function'), ...declared(source, 'AsyncFunction')].sort()).toEqual(all);
    expect(declared(source, 'AsyncFunction')).toEqual(async);
  }
});

test('the native store options read every field the TypeScript side sends', () => {
  const body = typescript.slice(typescript.indexOf('export interface NativeStoreOptions'));
  const fields = [...body.slice(0, body.indexOf('\n}')).matchAll(/^ {2}([A-Za-z]+)\??:/gm)].map((m) => m[1]!);
  expect(fields).toEqual([
    'key', 'appId', 'userId', 'sessionId', 'accessibility', 'accessGroup', 'requireAuthentication',
  ]);
  for (const field of fields) {
    expect(swift).toMatch(new RegExp(`@Field var ${field}\\b`));
  }
  // Android has no Keychain: the iOS-only fields are not read there, the gate is refused.
  for (const field of ['key', 'appId', 'userId', 'sessionId', 'requireAuthentication']) {
    expect(kotlin).toMatch(new RegExp(`@Field val ${field}\\b`));
  }
});
