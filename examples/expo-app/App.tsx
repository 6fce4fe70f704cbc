/**
 * The whole local-first lifecycle on one screen: a Jazz secret is imported on first start,
 * an identity is created (or loaded), backed up as a recovery phrase or to a passkey, restored
 * from either, kept in a provider-held vault, proven to a backend, and signed out.
 */
import {
  ExpoPasskeyBackup,
  LocalFirstError,
  VaultError,
  adoptVaultIdentity,
  restoreOrBackupWithVault,
  type SecretVault,
  RecoveryPhrase,
  getLocalFirstIdentityProof,
  importJazzSecret,
  useLocalFirstAuth,
  verifyLocalFirstIdentityProof,
  type JazzImportResult,
} from 'expo-localfirst';
import { useEffect, useState } from 'react';
import { Button, ScrollView, StyleSheet, Text, TextInput, View } from 'react-native';

const APP_ID = 'localfirst-example';
const PROOF_AUDIENCE = 'localfirst-example-signup';

// The relying-party id must match the web app's and be listed in the config plugin's
// `passkeyDomains` (app.json); the domain serves the association files.
const passkeyBackup = new ExpoPasskeyBackup({ appName: 'localfirst example', appHostname: 'localfirst.example' });

/**
 * Stands in for the identity provider's per-user storage (e.g. Clerk user metadata written by
 * your backend). `load` resolves `null` only when the provider definitively holds nothing.
 */
let demoVaultValue: string | null = null;
export const demoVault: SecretVault = {
  load: async () => demoVaultValue,
  store: async (secret) => {
    demoVaultValue = secret;
  },
};

/** Empties the demo vault (for tests). */
export function resetDemoVault(): void {
  demoVaultValue = null;
}

export default function App() {
  // Move a secret saved by Jazz's JavaScript store first, so no second identity is made.
  const [imported, setImported] = useState<JazzImportResult | LocalFirstError | null>(null);
  useEffect(() => {
    importJazzSecret({ store: { appId: APP_ID } }).then(setImported, (error: LocalFirstError) =>
      setImported(error),
    );
  }, []);

  if (imported === null) {
    return <Text style={styles.center}>Checking for a Jazz identity…</Text>;
  }
  return (
    <ScrollView contentContainerStyle={styles.screen}>
      <Text style={styles.note}>
        Jazz import: {imported instanceof LocalFirstError ? `failed (${imported.code})` : imported.status}
      </Text>
      <Account />
    </ScrollView>
  );
}

function Account() {
  const { secret, userId, isLoading, error, login, signOut, getOrCreateSecret } = useLocalFirstAuth({
    appId: APP_ID,
  });
  const [showPhrase, setShowPhrase] = useState(false);
  const [phraseInput, setPhraseInput] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [conflict, setConflict] = useState<VaultError | null>(null);

  const run = (action: () => Promise<string | void>) => () => {
    setMessage(null);
    action().then(
      (result) => setMessage(result ?? null),
      (failure: LocalFirstError) => setMessage(`${failure.code}: ${failure.message}`),
    );
  };

  if (isLoading) {
    return <Text>Loading identity…</Text>;
  }

  return (
    <View style={styles.sections}>
      <Section title="Identity">
        {error !== null ? (
          // A failed read is never replaced by a new identity: say why, offer retry or restore.
          <Text style={styles.error}>
            {`Your key cannot be read right now (${
              error instanceof LocalFirstError ? error.code : error.message
            }).`}
          </Text>
        ) : secret === null ? (
          <Text>Signed out.</Text>
        ) : (
          <Text selectable>User id: {userId}</Text>
        )}
        {secret === null && (
          <Button
            title={error !== null ? 'Try again' : 'Create a new identity'}
            onPress={run(async () => {
              await getOrCreateSecret();
            })}
          />
        )}
      </Section>

      {secret !== null && (
        <Section title="Back up">
          <Text style={styles.note}>
            These 24 words are your account: anyone who sees them can sign in as you.
          </Text>
          {showPhrase ? (
            <Text selectable style={styles.phrase}>
              {RecoveryPhrase.fromSecret(secret)}
            </Text>
          ) : (
            <Button title="Show recovery phrase" onPress={() => setShowPhrase(true)} />
          )}
        </Section>
      )}

      <Section title="Restore">
        <TextInput
          style={styles.input}
          multiline
          autoCapitalize="none"
          autoCorrect={false}
          placeholder="24-word recovery phrase"
          value={phraseInput}
          onChangeText={setPhraseInput}
        />
        <Button
          title="Restore account"
          onPress={run(async () => {
            await login(RecoveryPhrase.toSecret(phraseInput));
            setPhraseInput('');
            return 'Restored.';
          })}
        />
        <Button
          title="Restore from a passkey"
          onPress={run(async () => {
            await login(await passkeyBackup.restore());
            return 'Restored from the passkey.';
          })}
        />
      </Section>

      {secret !== null && (
        <Section title="Passkey">
          <Button
            title="Back up to a passkey"
            onPress={run(async () => {
              await passkeyBackup.backup(secret, `localfirst example (${userId!.slice(0, 8)})`);
              return 'Backed up to a passkey.';
            })}
          />
        </Section>
      )}

      <Section title="Provider vault">
        <Text style={styles.note}>
          After signing in with your provider: restore its identity, or back this one up to it.
        </Text>
        <Button
          title="Sync with the vault"
          onPress={run(async () => {
            setConflict(null);
            try {
              const synced = await restoreOrBackupWithVault(demoVault, { appId: APP_ID });
              return `Vault: ${synced.outcome} (${synced.userId})`;
            } catch (failure) {
              if (failure instanceof VaultError && failure.code === 'vault-identity-conflict') {
                setConflict(failure);
                return `The vault holds account ${failure.vaultUserId}; this device is ${failure.deviceUserId}.`;
              }
              throw failure;
            }
          })}
        />
        {conflict !== null && (
          <Button
            title="Use the vault's account"
            onPress={run(async () => {
              const adopted = await adoptVaultIdentity(demoVault, conflict.vaultUserId!, { appId: APP_ID });
              setConflict(null);
              // A real app shows RecoveryPhrase.fromSecret(adopted.replaced) before this point.
              return `Now using ${adopted.userId}.`;
            })}
          />
        )}
      </Section>

      {secret !== null && (
        <Section title="Prove it to a backend">
          <Button
            title="Make an identity proof"
            onPress={run(async () => {
              const token = await getLocalFirstIdentityProof({
                ttlSeconds: 60,
                audience: PROOF_AUDIENCE,
                store: { appId: APP_ID },
              });
              if (token === null) {
                return 'No identity to prove.';
              }
              // A backend runs this check with @localfirst/node before linking the account.
              const outcome = verifyLocalFirstIdentityProof(token, PROOF_AUDIENCE);
              return outcome.ok ? `Proof verified for ${outcome.id}` : `Refused: ${outcome.code}`;
            })}
          />
        </Section>
      )}

      {secret !== null && (
        <Section title="Sign out">
          <Text style={styles.note}>Removes the key from this device. Back it up first.</Text>
          <Button
            title="Sign out"
            onPress={run(async () => {
              setShowPhrase(false);
              await signOut();
            })}
          />
        </Section>
      )}

      {message !== null && <Text style={styles.note}>{message}</Text>}
    </View>
  );
}

function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <View style={styles.section}>
      <Text style={styles.title}>{title}</Text>
      {children}
    </View>
  );
}

const styles = StyleSheet.create({
  center: { flex: 1, textAlign: 'center', marginTop: 80 },
  screen: { padding: 24, paddingTop: 64 },
  sections: { gap: 16 },
  section: { gap: 8 },
  title: { fontSize: 18, fontWeight: '600' },
  note: { color: '#555' },
  error: { color: '#b00020' },
  phrase: { fontFamily: 'Courier', fontSize: 16 },
  input: { borderWidth: 1, borderColor: '#ccc', borderRadius: 6, padding: 8, minHeight: 64 },
});
