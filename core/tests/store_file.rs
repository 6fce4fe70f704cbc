//! The file store on a real file system: the shared conformance suite, file
//! permissions, damaged files, and crash safety under `SIGKILL`.

#[cfg(test)]
mod file_store {
    use std::io::{BufRead as _, BufReader, Write as _};
    use std::path::Path;
    use std::process::{Command, Stdio};

    use localfirst_core::secret_store::conformance::StoreHarness;
    use localfirst_core::secret_store::file::{decode_file, encode_file};
    use localfirst_core::secret_store::{
        AuthSecretStore, AuthSecretStoreExt as _, FileStore, StorageKey, StoreError,
    };
    use localfirst_core::{secret::Secret, ErrorCode as _};
    use tempfile::TempDir;

    /// A fresh private directory per harness; every store opened from it shares it.
    struct FileHarness {
        dir: TempDir,
    }

    impl FileHarness {
        fn new() -> FileHarness {
            FileHarness {
                dir: TempDir::new().unwrap(),
            }
        }
    }

    impl StoreHarness for FileHarness {
        fn open(&self, key: StorageKey) -> Result<Box<dyn AuthSecretStore>, StoreError> {
            Ok(Box::new(FileStore::open(self.dir.path(), key)?))
        }
    }

    localfirst_core::store_conformance_tests!(FileHarness::new());

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn directory_is_0700_and_files_are_0600() {
        let root = TempDir::new().unwrap();
        let dir = root.path().join("nested").join("secrets");
        let store = FileStore::open(&dir, StorageKey::for_app("perm-app")).unwrap();
        assert_eq!(mode(&dir), 0o700);
        store.get_or_create_secret().unwrap();
        assert_eq!(mode(&store.path()), 0o600);
        assert_eq!(mode(&store.lock_path()), 0o600);
        // A replacement keeps the mode (it is a new file renamed into place).
        store.save_secret(Secret::generate().unwrap()).unwrap();
        assert_eq!(mode(&store.path()), 0o600);
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.contains(&"jazz-auth-secret%3Aperm-app.secret".to_owned()),
            "{names:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_directory_others_can_write() {
        use std::os::unix::fs::PermissionsExt as _;
        let root = TempDir::new().unwrap();
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = FileStore::open(root.path(), StorageKey::default()).unwrap_err();
        assert_eq!(err.code(), "secret-store-permission-denied", "{err}");
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o750)).unwrap();
        FileStore::open(root.path(), StorageKey::default()).unwrap();
    }

    #[test]
    fn garbage_and_truncated_files_are_corrupted_and_kept() {
        let dir = TempDir::new().unwrap();
        let store = FileStore::open(dir.path(), StorageKey::for_app("garbage")).unwrap();
        let secret = Secret::from_bytes([3u8; 32]);
        let good = encode_file(&secret);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty", Vec::new()),
            ("garbage", b"not a secret at all\n".to_vec()),
            ("binary", vec![0u8, 159, 146, 150, 255]),
            ("truncated", good[..good.len() - 5].to_vec()),
            ("raw 32 bytes", vec![7u8; 32]),
            ("old header", b"localfirst-secret-v0\nAAAA\n".to_vec()),
        ];
        for (name, bytes) in cases {
            std::fs::write(store.path(), &bytes).unwrap();
            let err = store.load_secret().unwrap_err();
            assert_eq!(err.code(), "secret-store-corrupted", "{name}: {err}");
            let err = store.get_or_create_secret().unwrap_err();
            assert_eq!(err.code(), "secret-store-corrupted", "{name}: {err}");
            // The damaged file is evidence: never overwritten by a new identity.
            assert_eq!(std::fs::read(store.path()).unwrap(), bytes, "{name}");
        }
        // An explicit save is the way to recover, and it is read back exactly.
        store.save_secret(secret.clone()).unwrap();
        assert_eq!(store.load_secret().unwrap(), Some(secret));
    }

    #[test]
    fn unreadable_path_is_an_error_not_absence() {
        let dir = TempDir::new().unwrap();
        let store = FileStore::open(dir.path(), StorageKey::default()).unwrap();
        std::fs::create_dir(store.path()).unwrap();
        let err = store.load_secret().unwrap_err();
        assert_eq!(err.code(), "secret-store-io", "{err}");
        let err = store.get_or_create_secret().unwrap_err();
        assert_eq!(err.code(), "secret-store-io", "{err}");
        assert!(store.path().is_dir());
    }

    #[test]
    fn a_file_in_place_of_the_directory_is_rejected() {
        let dir = TempDir::new().unwrap();
        let file = dir.path().join("plain");
        std::fs::write(&file, b"x").unwrap();
        let err = FileStore::open(&file, StorageKey::default()).unwrap_err();
        assert_eq!(err.code(), "secret-store-io", "{err}");
    }

    #[test]
    fn two_spellings_of_one_directory_share_the_lock_scope() {
        let dir = TempDir::new().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let direct = FileStore::open(dir.path(), StorageKey::default()).unwrap();
        let roundabout =
            FileStore::open(dir.path().join("sub").join(".."), StorageKey::default()).unwrap();
        assert_eq!(direct.lock_scope(), roundabout.lock_scope());
        assert_eq!(direct.path(), roundabout.path());
    }

    #[test]
    fn clear_removes_leftover_temporary_copies() {
        let dir = TempDir::new().unwrap();
        let store = FileStore::open(dir.path(), StorageKey::for_app("leftovers")).unwrap();
        store.get_or_create_secret().unwrap();
        // What a save killed between creating and renaming its temp file leaves.
        let leftover = dir.path().join(".jazz-auth-secret%3Aleftovers.AbC123.tmp");
        std::fs::write(&leftover, b"partial").unwrap();
        let unrelated = dir.path().join(".jazz-auth-secret%3Aother.AbC123.tmp");
        std::fs::write(&unrelated, b"other key").unwrap();
        store.clear_secret().unwrap();
        assert!(!leftover.exists());
        assert!(!store.path().exists());
        assert!(
            unrelated.exists(),
            "clearing one key touched another key's file"
        );
        assert_eq!(store.load_secret().unwrap(), None);
    }

    /// `create_secret` (the write of `get_or_create`) over a file that another
    /// writer put there returns that file's secret, or its read error, and
    /// leaves the file and no temporary copy behind.
    #[test]
    fn create_never_replaces_an_existing_file() {
        let dir = TempDir::new().unwrap();
        let store = FileStore::open(dir.path(), StorageKey::for_app("create")).unwrap();
        let first = Secret::from_bytes([8u8; 32]);
        assert_eq!(store.create_secret(first.clone()).unwrap(), first);
        let bytes = std::fs::read(store.path()).unwrap();
        let second = Secret::from_bytes([9u8; 32]);
        assert_eq!(store.create_secret(second).unwrap(), first);
        assert_eq!(std::fs::read(store.path()).unwrap(), bytes);

        std::fs::write(store.path(), b"damaged").unwrap();
        let err = store
            .create_secret(Secret::from_bytes([10u8; 32]))
            .unwrap_err();
        assert_eq!(err.code(), "secret-store-corrupted", "{err}");
        assert_eq!(std::fs::read(store.path()).unwrap(), b"damaged");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    /// Lower-cased file name of `path`: what a case-insensitive file system
    /// (macOS, Windows by default) compares.
    fn folded_name(path: &Path) -> String {
        path.file_name().unwrap().to_string_lossy().to_lowercase()
    }

    /// Keys differing only in letter case must never share a file on a
    /// case-insensitive file system: their secret, lock and temporary file
    /// names differ even after case folding.
    #[test]
    fn keys_differing_only_in_case_never_share_a_file() {
        let dir = TempDir::new().unwrap();
        // Every upper/lower-case spelling of "myapp" (32 keys), as app id and
        // as an explicit key, plus a user-id part.
        let mut keys = Vec::new();
        for mask in 0u32..32 {
            let spelled: String = "myapp"
                .chars()
                .enumerate()
                .map(|(i, ch)| {
                    if mask & (1 << i) != 0 {
                        ch.to_ascii_uppercase()
                    } else {
                        ch
                    }
                })
                .collect();
            keys.push(StorageKey::for_app(&spelled));
            keys.push(StorageKey::explicit(&spelled).unwrap());
        }
        keys.push(StorageKey::namespaced(Some("app"), Some("Alice"), None));
        keys.push(StorageKey::namespaced(Some("app"), Some("alice"), None));
        keys.push(StorageKey::explicit("JAZZ-AUTH-SECRET").unwrap());
        keys.push(StorageKey::default());
        let mut secret_names = std::collections::HashSet::new();
        let mut lock_names = std::collections::HashSet::new();
        for key in &keys {
            let store = FileStore::open(dir.path(), key.clone()).unwrap();
            assert!(
                secret_names.insert(folded_name(&store.path())),
                "`{key}` shares its secret file with another key: {}",
                store.path().display()
            );
            assert!(
                lock_names.insert(folded_name(&store.lock_path())),
                "`{key}` shares its lock file with another key"
            );
        }
        // And on this file system, the stores really keep separate secrets.
        let upper = FileStore::open(dir.path(), StorageKey::for_app("MyApp")).unwrap();
        let lower = FileStore::open(dir.path(), StorageKey::for_app("myapp")).unwrap();
        let (a, b) = (
            upper.get_or_create_secret().unwrap(),
            lower.get_or_create_secret().unwrap(),
        );
        assert_ne!(a, b);
        assert_eq!(upper.load_secret().unwrap(), Some(a));
    }

    const CHILD_DIR_ENV: &str = "LOCALFIRST_TEST_SAVE_LOOP_DIR";
    const LOOP_KEY: &str = "save-loop";

    fn loop_secrets() -> [Secret; 2] {
        [
            Secret::from_bytes([0x11; 32]),
            Secret::from_bytes([0xee; 32]),
        ]
    }

    /// With the environment variable set (by `sigkill_during_saves_never_tears_the_file`),
    /// saves two secrets alternately forever, reporting each save on stdout.
    /// Without it, runs a short loop and checks the last save wins.
    #[test]
    fn save_loop_child() {
        let secrets = loop_secrets();
        let key = StorageKey::for_app(LOOP_KEY);
        match std::env::var_os(CHILD_DIR_ENV) {
            Some(dir) => {
                let store = FileStore::open(dir, key).unwrap();
                let mut out = std::io::stdout().lock();
                for n in 0u64.. {
                    store
                        .save_secret(secrets[(n % 2) as usize].clone())
                        .unwrap();
                    writeln!(out, "saved {n}").unwrap();
                    out.flush().unwrap();
                }
            }
            None => {
                let dir = TempDir::new().unwrap();
                let store = FileStore::open(dir.path(), key).unwrap();
                for n in 0..101usize {
                    store.save_secret(secrets[n % 2].clone()).unwrap();
                }
                assert_eq!(store.load_secret().unwrap(), Some(secrets[0].clone()));
            }
        }
    }

    #[test]
    fn sigkill_during_saves_never_tears_the_file() {
        let dir = TempDir::new().unwrap();
        let key = StorageKey::for_app(LOOP_KEY);
        let [a, b] = loop_secrets();
        let store = FileStore::open(dir.path(), key.clone()).unwrap();
        store.save_secret(a.clone()).unwrap();
        let (encoded_a, encoded_b) = (encode_file(&a), encode_file(&b));
        let exe = std::env::current_exe().unwrap();
        let mut seen = [false, false];
        for round in 0..40u64 {
            let mut child = Command::new(&exe)
                .args([
                    "--exact",
                    "file_store::save_loop_child",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_DIR_ENV, dir.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let stdout = child.stdout.take().unwrap();
            // Kill after a varying number of completed saves, while later ones run.
            let target = (round * 37) % 200 + 1;
            // The reader stays open until the kill, so the child never stops on
            // a closed pipe: it is killed wherever it happens to be.
            let mut lines = BufReader::new(stdout).lines();
            let mut saves = 0u64;
            for line in lines.by_ref() {
                let line = line.unwrap();
                if let Some(n) = line.strip_prefix("saved ") {
                    saves = n.parse::<u64>().unwrap() + 1;
                    if saves >= target {
                        break;
                    }
                }
            }
            assert!(
                saves >= target,
                "round {round}: child stopped after {saves} saves"
            );
            child.kill().unwrap(); // SIGKILL on Unix
            child.wait().unwrap();
            drop(lines);

            let bytes = std::fs::read(store.path()).unwrap();
            let whole_a = bytes.as_slice() == encoded_a.as_slice();
            let whole_b = bytes.as_slice() == encoded_b.as_slice();
            assert!(whole_a || whole_b, "round {round}: torn secret file");
            seen[usize::from(whole_b)] = true;
            let reopened = FileStore::open(dir.path(), key.clone()).unwrap();
            let loaded = reopened.load_secret().unwrap().unwrap();
            assert!(loaded == a || loaded == b);
            assert_eq!(decode_file(&bytes).unwrap(), loaded);
        }
        // Kills landed after both kinds of save, so the check above saw both states.
        assert!(
            seen[0] && seen[1],
            "only one secret was ever observed: {seen:?}"
        );
        store.clear_secret().unwrap();
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
