/**
 * The whole local-first lifecycle on one screen: a Jazz secret is imported on first start,
 * an identity is created (or loaded), backed up as a recovery phrase, restored from one,
 * proven to a backend, and signed out.
 */
import {
  LocalFirstError,
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
          <Text style={styles.error}>Your key cannot be read right now ({error.code}).</Text>
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
