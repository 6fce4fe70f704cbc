// A screen of a new Expo app using expo-localfirst as installed from its tarball
// (scripts/test-install.sh copies it into an app made from the blank TypeScript template).
import { Button, Text, View } from 'react-native';
import { LocalFirstError, RecoveryPhrase, useLocalFirstAuth } from 'expo-localfirst';

export const APP_ID = 'install-check';

export default function LocalFirstScreen() {
  const { secret, userId, isLoading, error, signOut, getOrCreateSecret } = useLocalFirstAuth({
    appId: APP_ID,
  });
  if (isLoading) return <Text>Loading</Text>;
  if (error) {
    // Core failures carry a catalogue code; anything else (a bridge error) is passed on as is.
    const why = error instanceof LocalFirstError ? error.code : error.message;
    return <Text>Key unavailable: {why}</Text>;
  }
  if (!secret) {
    return <Button title="Create account" onPress={() => void getOrCreateSecret()} />;
  }
  return (
    <View>
      <Text>User: {userId}</Text>
      <Text>Phrase words: {RecoveryPhrase.fromSecret(secret).split(' ').length}</Text>
      <Button title="Sign out" onPress={() => void signOut()} />
    </View>
  );
}
