//! The Java KeyStore store (`AndroidKeystoreStore`) on a real desktop JVM.
//!
//! One JVM is started per test process through the JNI invocation API and shared by
//! every test. It is found through `JAVA_HOME`, or else through the `java` on `PATH`
//! (`java -XshowSettings:properties` reports its home); `libjvm` is loaded by absolute
//! path, so no `LD_LIBRARY_PATH` is needed. `javac` from the same JDK compiles the
//! small `Context` stand-in in `tests/data/jni/`. The JVM runs with `-Xcheck:jni`, so
//! JNI misuse (such as calling into Java with an exception pending) is reported.
//!
//! The keys live in a PKCS12 file (the desktop profile); everything else — cipher,
//! envelope, exception mapping — is the code that runs on Android.

mod common;

#[cfg(test)]
mod jni_store {
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::sync::{Arc, OnceLock};

    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use jni::objects::{JObject, JValue};
    use jni::{InitArgsBuilder, JNIEnv, JNIVersion, JavaVM};
    use localfirst_core::secret::Secret;
    use localfirst_core::secret_store::conformance::StoreHarness;
    use localfirst_core::secret_store::keystore::{
        self, AndroidKeystoreStore, DesktopKeystore, KeystoreProfile, IV_LEN, TAG_LEN,
    };
    use localfirst_core::secret_store::{
        AuthSecretStore, AuthSecretStoreExt as _, StorageKey, StoreError,
    };
    use localfirst_core::ErrorCode as _;
    use tempfile::TempDir;

    // ---------------------------------------------------------------------------
    // The shared JVM

    struct Jdk {
        libjvm: PathBuf,
        javac: PathBuf,
    }

    fn find_libjvm(home: &Path) -> Option<PathBuf> {
        [
            "lib/server/libjvm.so",
            "lib/server/libjvm.dylib",
            "jre/lib/amd64/server/libjvm.so",
            "jre/lib/aarch64/server/libjvm.so",
            "bin/server/jvm.dll",
        ]
        .iter()
        .map(|relative| home.join(relative))
        .find(|candidate| candidate.is_file())
    }

    /// `java.home` as reported by the `java` on `PATH`.
    fn java_home_from_path() -> Option<PathBuf> {
        let output = Command::new("java")
            .args(["-XshowSettings:properties", "-version"])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&output.stderr).into_owned()
            + &String::from_utf8_lossy(&output.stdout);
        text.lines()
            .find_map(|line| line.trim().strip_prefix("java.home = "))
            .map(|home| PathBuf::from(home.trim()))
    }

    fn locate_jdk() -> Jdk {
        let home = match std::env::var_os("JAVA_HOME").filter(|v| !v.is_empty()) {
            Some(home) => PathBuf::from(home),
            None => java_home_from_path()
                .expect("no JAVA_HOME and no `java` on PATH: install a JDK 17+ or set JAVA_HOME"),
        };
        let libjvm = find_libjvm(&home).unwrap_or_else(|| {
            panic!(
                "no libjvm under {}: point JAVA_HOME at a JDK 17+",
                home.display()
            )
        });
        let javac = [home.join("bin/javac"), home.join("bin/javac.exe")]
            .into_iter()
            .find(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from("javac"));
        Jdk { libjvm, javac }
    }

    /// Compiles `tests/data/jni/*.java` into a directory kept for the whole process.
    fn compile_test_classes(javac: &Path) -> PathBuf {
        static CLASSES: OnceLock<TempDir> = OnceLock::new();
        let out = CLASSES.get_or_init(|| TempDir::new().unwrap());
        let source = crate::common::data_file("jni/FakeContext.java");
        let status = Command::new(javac)
            .arg("-d")
            .arg(out.path())
            .arg(&source)
            .status()
            .unwrap_or_else(|e| panic!("running {} failed: {e}", javac.display()));
        assert!(status.success(), "javac failed on {}", source.display());
        out.path().to_path_buf()
    }

    /// The process's one JVM (a JVM can be created only once per process).
    fn vm() -> Arc<JavaVM> {
        static VM: OnceLock<Arc<JavaVM>> = OnceLock::new();
        Arc::clone(VM.get_or_init(|| {
            let jdk = locate_jdk();
            let classes = compile_test_classes(&jdk.javac);
            let args = InitArgsBuilder::new()
                .version(JNIVersion::V8)
                .option("-Xcheck:jni")
                .option("-Xrs")
                .option("-Xmx256m")
                .option(format!("-Djava.class.path={}", classes.display()))
                .build()
                .unwrap();
            let libjvm = jdk.libjvm.clone();
            let vm = JavaVM::with_libjvm(args, move || Ok(libjvm)).unwrap_or_else(|e| {
                panic!("starting the JVM from {} failed: {e}", jdk.libjvm.display())
            });
            Arc::new(vm)
        }))
    }

    /// Runs `f` with this thread attached to the shared JVM.
    fn with_env<T>(f: impl FnOnce(&mut JNIEnv<'_>) -> T) -> T {
        let vm = vm();
        let mut guard = vm.attach_current_thread().unwrap();
        let result = f(&mut guard);
        assert!(
            !guard.exception_check().unwrap(),
            "a Java exception was left pending"
        );
        result
    }

    // ---------------------------------------------------------------------------
    // Harness: a fresh directory with a PKCS12 keystore and an envelope directory

    fn random_password() -> String {
        Secret::generate().unwrap().to_base64url().to_string()
    }

    struct JniHarness {
        root: TempDir,
        password: String,
        desktop: DesktopKeystore,
    }

    impl JniHarness {
        fn new() -> JniHarness {
            let root = TempDir::new().unwrap();
            let password = random_password();
            let desktop = DesktopKeystore::new(root.path().join("keys.p12"), &password).unwrap();
            JniHarness {
                root,
                password,
                desktop,
            }
        }

        fn envelope_dir(&self) -> PathBuf {
            self.root.path().join("no_backup")
        }

        fn store(&self, key: StorageKey) -> AndroidKeystoreStore {
            AndroidKeystoreStore::new(
                vm(),
                KeystoreProfile::Desktop(self.desktop.clone()),
                self.envelope_dir(),
                key,
            )
        }

        fn with_password(&self, password: &str, key: StorageKey) -> AndroidKeystoreStore {
            let desktop = DesktopKeystore::new(self.desktop.path(), password).unwrap();
            AndroidKeystoreStore::new(
                vm(),
                KeystoreProfile::Desktop(desktop),
                self.envelope_dir(),
                key,
            )
        }

        /// Opens the PKCS12 file in Java, independently of the store, and runs `f` on it;
        /// when `save` is set, writes it back afterwards.
        fn edit_keystore<T>(
            &self,
            save: bool,
            f: impl FnOnce(&mut JNIEnv<'_>, &JObject<'_>) -> T,
        ) -> T {
            with_env(|env| {
                let path = env
                    .new_string(self.desktop.path().to_str().unwrap())
                    .unwrap();
                let chars: Vec<u16> = self.password.encode_utf16().collect();
                let pw = env.new_char_array(chars.len() as i32).unwrap();
                env.set_char_array_region(&pw, 0, &chars).unwrap();
                let kind = env.new_string("PKCS12").unwrap();
                let ks = env
                    .call_static_method(
                        "java/security/KeyStore",
                        "getInstance",
                        "(Ljava/lang/String;)Ljava/security/KeyStore;",
                        &[JValue::Object(&kind)],
                    )
                    .unwrap()
                    .l()
                    .unwrap();
                let input = env
                    .new_object(
                        "java/io/FileInputStream",
                        "(Ljava/lang/String;)V",
                        &[JValue::Object(&path)],
                    )
                    .unwrap();
                env.call_method(
                    &ks,
                    "load",
                    "(Ljava/io/InputStream;[C)V",
                    &[JValue::Object(&input), JValue::Object(&pw)],
                )
                .unwrap();
                env.call_method(&input, "close", "()V", &[]).unwrap();
                let result = f(env, &ks);
                if save {
                    let output = env
                        .new_object(
                            "java/io/FileOutputStream",
                            "(Ljava/lang/String;)V",
                            &[JValue::Object(&path)],
                        )
                        .unwrap();
                    env.call_method(
                        &ks,
                        "store",
                        "(Ljava/io/OutputStream;[C)V",
                        &[JValue::Object(&output), JValue::Object(&pw)],
                    )
                    .unwrap();
                    env.call_method(&output, "close", "()V", &[]).unwrap();
                }
                result
            })
        }
    }

    impl StoreHarness for JniHarness {
        fn open(&self, key: StorageKey) -> Result<Box<dyn AuthSecretStore>, StoreError> {
            Ok(Box::new(self.store(key)))
        }
    }

    localfirst_core::store_conformance_tests!(JniHarness::new());

    // ---------------------------------------------------------------------------
    // Helpers

    fn code<T: std::fmt::Debug>(result: Result<T, StoreError>) -> localfirst_core::Code {
        match result {
            Ok(value) => panic!("expected an error, got Ok({value:?})"),
            Err(error) => error.code(),
        }
    }

    /// `(v, iv, ct)` of an envelope file, checking it has exactly those three fields.
    fn read_envelope(path: &Path) -> (u64, Vec<u8>, Vec<u8>) {
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let fields = json.as_object().unwrap();
        let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["ct", "iv", "v"]);
        let decode = |name: &str| {
            URL_SAFE_NO_PAD
                .decode(fields[name].as_str().unwrap())
                .unwrap()
        };
        (fields["v"].as_u64().unwrap(), decode("iv"), decode("ct"))
    }

    fn write_envelope(path: &Path, v: u64, iv: &[u8], ct: &[u8]) {
        let json = serde_json::json!({
            "v": v,
            "iv": URL_SAFE_NO_PAD.encode(iv),
            "ct": URL_SAFE_NO_PAD.encode(ct),
        });
        std::fs::write(path, serde_json::to_vec(&json).unwrap()).unwrap();
    }

    fn contains_alias(harness: &JniHarness, alias: &str) -> bool {
        harness.edit_keystore(false, |env, ks| {
            let alias = env.new_string(alias).unwrap();
            env.call_method(
                ks,
                "containsAlias",
                "(Ljava/lang/String;)Z",
                &[JValue::Object(&alias)],
            )
            .unwrap()
            .z()
            .unwrap()
        })
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    // ---------------------------------------------------------------------------
    // Store behaviour

    #[test]
    fn round_trip_through_the_jvm_and_envelope_shape() {
        let harness = JniHarness::new();
        let key = StorageKey::for_app("round-trip");
        let store = harness.store(key.clone());
        assert!(store.load_secret().unwrap().is_none());
        // Nothing stored yet: no keystore file and no envelope were created by a read.
        assert!(!harness.desktop.path().exists());

        let secret = Secret::generate().unwrap();
        store.save_secret(secret.clone()).unwrap();
        assert_eq!(store.load_secret().unwrap(), Some(secret.clone()));
        let reopened = harness.store(key.clone());
        assert_eq!(reopened.load_secret().unwrap(), Some(secret.clone()));
        assert_eq!(reopened.get_or_create_secret().unwrap(), secret);

        let path = store.envelope_path();
        assert_eq!(path.parent().unwrap(), harness.envelope_dir());
        assert_eq!(
            path.file_name().unwrap().to_str().unwrap(),
            format!("{}.envelope.json", keystore::key_alias(&key))
        );
        let (v, iv, ct) = read_envelope(&path);
        assert_eq!(v, 1);
        assert_eq!(iv.len(), IV_LEN);
        assert_eq!(ct.len(), 32 + TAG_LEN);
        let raw = std::fs::read(&path).unwrap();
        assert!(!raw
            .windows(32)
            .any(|window| window == secret.expose_bytes()));
        let text = String::from_utf8(raw).unwrap();
        assert!(!text.contains(secret.to_base64url().as_str()));

        assert!(contains_alias(&harness, store.alias()));
        // Only the envelope is left in the directory (no temporary files).
        let names: Vec<String> = std::fs::read_dir(harness.envelope_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        #[cfg(unix)]
        {
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&harness.envelope_dir()), 0o700);
            assert_eq!(mode(harness.desktop.path()), 0o600);
        }
    }

    #[test]
    fn every_write_uses_a_fresh_iv() {
        let harness = JniHarness::new();
        let store = harness.store(StorageKey::for_app("fresh-iv"));
        let secret = Secret::generate().unwrap();
        let mut ivs = Vec::new();
        let mut cts = Vec::new();
        for _ in 0..8 {
            store.save_secret(secret.clone()).unwrap();
            let (_, iv, ct) = read_envelope(&store.envelope_path());
            ivs.push(iv);
            cts.push(ct);
            assert_eq!(store.load_secret().unwrap(), Some(secret.clone()));
        }
        for i in 0..ivs.len() {
            for j in i + 1..ivs.len() {
                assert_ne!(ivs[i], ivs[j], "writes {i} and {j} reused an IV");
                assert_ne!(
                    cts[i], cts[j],
                    "writes {i} and {j} produced the same ciphertext"
                );
            }
        }
    }

    #[test]
    fn a_flipped_byte_is_corrupted_and_never_replaced() {
        let harness = JniHarness::new();
        let store = harness.store(StorageKey::for_app("flipped"));
        let secret = Secret::generate().unwrap();
        store.save_secret(secret.clone()).unwrap();
        let path = store.envelope_path();
        let original = std::fs::read(&path).unwrap();
        let (v, iv, ct) = read_envelope(&path);

        // Ciphertext bytes (first, last), tag bytes (first, last), and the IV.
        for position in [0usize, 31, 32, 47] {
            let mut damaged = ct.clone();
            damaged[position] ^= 0x01;
            write_envelope(&path, v, &iv, &damaged);
            let written = std::fs::read(&path).unwrap();
            assert_eq!(
                code(store.load_secret()),
                "secret-store-corrupted",
                "ct byte {position}"
            );
            assert_eq!(
                code(store.get_or_create_secret()),
                "secret-store-corrupted",
                "ct byte {position}"
            );
            assert_eq!(std::fs::read(&path).unwrap(), written);
        }
        let mut damaged_iv = iv.clone();
        damaged_iv[5] ^= 0x80;
        write_envelope(&path, v, &damaged_iv, &ct);
        assert_eq!(code(store.load_secret()), "secret-store-corrupted");
        assert_eq!(code(store.get_or_create_secret()), "secret-store-corrupted");

        // Putting the original bytes back makes it readable again: nothing else changed.
        std::fs::write(&path, &original).unwrap();
        assert_eq!(store.load_secret().unwrap(), Some(secret));
    }

    #[test]
    fn an_envelope_moved_to_another_key_does_not_decrypt() {
        let harness = JniHarness::new();
        let a = harness.store(StorageKey::for_app("moved-a"));
        let b = harness.store(StorageKey::for_app("moved-b"));
        a.save_secret(Secret::generate().unwrap()).unwrap();
        let b_secret = Secret::generate().unwrap();
        b.save_secret(b_secret.clone()).unwrap();
        let b_original = std::fs::read(b.envelope_path()).unwrap();
        std::fs::copy(a.envelope_path(), b.envelope_path()).unwrap();
        assert_eq!(code(b.load_secret()), "secret-store-corrupted");
        assert_eq!(code(b.get_or_create_secret()), "secret-store-corrupted");
        std::fs::write(b.envelope_path(), b_original).unwrap();
        assert_eq!(b.load_secret().unwrap(), Some(b_secret));
    }

    #[test]
    fn a_deleted_key_is_key_invalidated_and_never_replaced() {
        let harness = JniHarness::new();
        let store = harness.store(StorageKey::for_app("deleted-key"));
        store.save_secret(Secret::generate().unwrap()).unwrap();
        let envelope = std::fs::read(store.envelope_path()).unwrap();
        let alias = store.alias().to_owned();
        assert!(contains_alias(&harness, &alias));

        // Another party (a biometric change, a restore onto a new device) removes the key.
        harness.edit_keystore(true, |env, ks| {
            let alias = env.new_string(&alias).unwrap();
            env.call_method(
                ks,
                "deleteEntry",
                "(Ljava/lang/String;)V",
                &[JValue::Object(&alias)],
            )
            .unwrap();
        });
        assert!(!contains_alias(&harness, &alias));

        assert_eq!(code(store.load_secret()), "secret-store-key-invalidated");
        assert_eq!(
            code(store.get_or_create_secret()),
            "secret-store-key-invalidated"
        );
        assert_eq!(
            code(harness.store(store.storage_key()).get_or_create_secret()),
            "secret-store-key-invalidated"
        );
        // Nothing was minted: same envelope, still no key.
        assert_eq!(std::fs::read(store.envelope_path()).unwrap(), envelope);
        assert!(!contains_alias(&harness, &alias));

        // Restoring the identity (e.g. from its recovery phrase) is an explicit save.
        let restored = Secret::generate().unwrap();
        store.save_secret(restored.clone()).unwrap();
        assert_eq!(store.load_secret().unwrap(), Some(restored));
        assert!(contains_alias(&harness, &alias));
    }

    #[test]
    fn an_envelope_without_its_keystore_is_key_invalidated() {
        // What an Android backup restore looks like: the file comes back, the key does not.
        let harness = JniHarness::new();
        let store = harness.store(StorageKey::default());
        store.save_secret(Secret::generate().unwrap()).unwrap();
        std::fs::remove_file(harness.desktop.path()).unwrap();
        assert_eq!(code(store.load_secret()), "secret-store-key-invalidated");
        assert_eq!(
            code(store.get_or_create_secret()),
            "secret-store-key-invalidated"
        );
        assert!(
            !harness.desktop.path().exists(),
            "a key was created on read"
        );
    }

    #[derive(serde::Deserialize)]
    struct BadEnvelopes {
        cases: Vec<BadEnvelope>,
    }

    #[derive(serde::Deserialize)]
    struct BadEnvelope {
        name: String,
        content: String,
    }

    #[test]
    fn garbage_envelopes_are_corrupted_and_never_replaced() {
        let corpus: BadEnvelopes =
            serde_json::from_str(include_str!("data/jni/bad_envelopes.json")).unwrap();
        assert!(corpus.cases.len() >= 20);
        let harness = JniHarness::new();
        let store = harness.store(StorageKey::for_app("garbage"));
        // A real key exists, so well-formed envelopes reach the cipher.
        store.save_secret(Secret::generate().unwrap()).unwrap();
        let path = store.envelope_path();
        for case in &corpus.cases {
            std::fs::write(&path, case.content.as_bytes()).unwrap();
            let load = store.load_secret();
            assert_eq!(code(load), "secret-store-corrupted", "case {}", case.name);
            assert_eq!(
                code(store.get_or_create_secret()),
                "secret-store-corrupted",
                "case {}",
                case.name
            );
            assert_eq!(
                std::fs::read(&path).unwrap(),
                case.content.as_bytes(),
                "case {} was overwritten",
                case.name
            );
        }
    }

    #[test]
    fn a_wrong_keystore_password_is_an_error_not_absence() {
        let harness = JniHarness::new();
        let key = StorageKey::for_app("wrong-password");
        let secret = Secret::generate().unwrap();
        harness
            .store(key.clone())
            .save_secret(secret.clone())
            .unwrap();
        let wrong = harness.with_password("not-the-password", key.clone());
        let error = wrong.load_secret().unwrap_err();
        assert_eq!(error.code(), "secret-store-backend", "{error}");
        assert!(error.to_string().contains("KeyStore.load"), "{error}");
        assert_eq!(code(wrong.get_or_create_secret()), "secret-store-backend");
        assert_eq!(harness.store(key).load_secret().unwrap(), Some(secret));
    }

    #[test]
    fn clear_removes_the_envelope_and_the_key_only_for_its_storage_key() {
        let harness = JniHarness::new();
        let cleared = harness.store(StorageKey::for_app("clear-me"));
        let kept = harness.store(StorageKey::for_app("keep-me"));
        cleared.save_secret(Secret::generate().unwrap()).unwrap();
        let kept_secret = Secret::generate().unwrap();
        kept.save_secret(kept_secret.clone()).unwrap();

        cleared.clear_secret().unwrap();
        assert!(!cleared.envelope_path().exists());
        assert!(!contains_alias(&harness, cleared.alias()));
        assert!(cleared.load_secret().unwrap().is_none());
        cleared.clear_secret().unwrap();

        assert!(contains_alias(&harness, kept.alias()));
        assert_eq!(kept.load_secret().unwrap(), Some(kept_secret));
    }

    #[test]
    fn errors_on_an_attached_java_thread_leave_no_exception_pending() {
        // Called from a thread that is already attached (as JNA/UniFFI calls from Kotlin
        // are), a failing operation must clear the exception it caught.
        let harness = JniHarness::new();
        let store = harness.store(StorageKey::for_app("attached"));
        let secret = Secret::generate().unwrap();
        store.save_secret(secret.clone()).unwrap();
        let (v, iv, mut ct) = read_envelope(&store.envelope_path());
        ct[3] ^= 0x40;
        write_envelope(&store.envelope_path(), v, &iv, &ct);
        with_env(|env| {
            assert_eq!(code(store.load_secret()), "secret-store-corrupted");
            assert!(!env.exception_check().unwrap());
            // The thread keeps working: Java and the store are both still usable.
            let text = env.new_string("still usable").unwrap();
            assert!(!text.is_null());
            store.save_secret(secret.clone()).unwrap();
            assert_eq!(store.load_secret().unwrap(), Some(secret.clone()));
        });
    }

    // ---------------------------------------------------------------------------
    // Getting the VM and the Context in (the native half of LocalFirstAndroid.init)

    #[test]
    fn init_reads_the_no_backup_dir_from_the_context() {
        let dir = TempDir::new().unwrap();
        let no_backup = dir.path().join("no_backup");
        with_env(|env| {
            // Not a Context: a typed error, nothing recorded, no exception left behind.
            let not_a_context = JObject::from(env.new_string("not a context").unwrap());
            let error = keystore::init_android(env, &not_a_context).unwrap_err();
            assert_eq!(error.code(), "secret-store-backend", "{error}");
            assert!(error.to_string().contains("NoSuchMethodError"), "{error}");
            assert!(!env.exception_check().unwrap());
            assert!(keystore::android_runtime().is_none());
            let missing = keystore::initialized_runtime().unwrap_err();
            assert_eq!(missing.code(), "secret-store-backend");
            assert!(
                missing.to_string().contains("LocalFirstAndroid.init"),
                "{missing}"
            );

            let error = keystore::init_android(env, &JObject::null()).unwrap_err();
            assert_eq!(error.code(), "secret-store-backend");

            // A Context without a no-backup directory.
            let none = env
                .new_object(
                    "FakeContext",
                    "(Ljava/lang/String;)V",
                    &[JValue::Object(&JObject::null())],
                )
                .unwrap();
            assert_eq!(
                code(keystore::init_android(env, &none)),
                "secret-store-unavailable"
            );

            // The entry-point variant throws IllegalStateException carrying the code.
            assert!(!keystore::init_android_or_throw(env, &not_a_context));
            assert!(env.exception_check().unwrap());
            let thrown = env.exception_occurred().unwrap();
            env.exception_clear().unwrap();
            assert!(env
                .is_instance_of(&thrown, "java/lang/IllegalStateException")
                .unwrap());
            let message = env
                .call_method(&thrown, "getMessage", "()Ljava/lang/String;", &[])
                .unwrap()
                .l()
                .unwrap();
            let message: String = env.get_string(&message.into()).unwrap().into();
            assert!(message.contains("[secret-store-backend]"), "{message}");
            assert!(keystore::android_runtime().is_none());

            // A real one.
            let path = env.new_string(no_backup.to_str().unwrap()).unwrap();
            let context = env
                .new_object(
                    "FakeContext",
                    "(Ljava/lang/String;)V",
                    &[JValue::Object(&path)],
                )
                .unwrap();
            assert!(keystore::init_android_or_throw(env, &context));
            let runtime = keystore::android_runtime().unwrap();
            assert_eq!(runtime.no_backup_dir(), no_backup);
            assert!(std::ptr::eq(
                keystore::initialized_runtime().unwrap(),
                runtime
            ));

            // The first successful init wins.
            let other = env.new_string("/elsewhere").unwrap();
            let other = env
                .new_object(
                    "FakeContext",
                    "(Ljava/lang/String;)V",
                    &[JValue::Object(&other)],
                )
                .unwrap();
            let again = keystore::init_android(env, &other).unwrap();
            assert_eq!(again.no_backup_dir(), no_backup);
        });

        // The recorded VM and directory make a working store.
        let runtime = keystore::android_runtime().unwrap();
        let desktop =
            DesktopKeystore::new(dir.path().join("keys.p12"), &random_password()).unwrap();
        let store = AndroidKeystoreStore::new(
            runtime.vm(),
            KeystoreProfile::Desktop(desktop),
            runtime.no_backup_dir(),
            StorageKey::for_app("from-init"),
        );
        let secret = store.get_or_create_secret().unwrap();
        assert_eq!(store.load_secret().unwrap(), Some(secret));
        assert!(store.envelope_path().starts_with(&no_backup));
    }
}
