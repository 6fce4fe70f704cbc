//! The file store after a crash and with hostile files: temporary copies left by an
//! interrupted save disappear on the next operation, and reads are bounded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::path::Path;

use localfirst_core::secret::Secret;
use localfirst_core::secret_store::{
    AuthSecretStore as _, AuthSecretStoreExt as _, FileStore, StorageKey,
};
use localfirst_core::ErrorCode as _;
use tempfile::TempDir;

fn temp_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    names.sort();
    names
}

/// What a save killed between creating and renaming its temporary file leaves
/// (current and earlier naming), plus another key's temporary file.
fn plant_leftovers(dir: &Path) -> (Vec<std::path::PathBuf>, std::path::PathBuf) {
    let own = vec![
        dir.join(".jazz-auth-secret%3Aapp.secret.Xy12Ab.tmp"),
        dir.join(".jazz-auth-secret%3Aapp.AbC123.tmp"),
    ];
    for path in &own {
        std::fs::write(path, b"localfirst-secret-v1\nfull copy\n").unwrap();
    }
    let other = dir.join(".jazz-auth-secret%3Aapp-two.secret.Xy12Ab.tmp");
    std::fs::write(&other, b"another key").unwrap();
    (own, other)
}

#[test]
fn a_save_removes_stale_temporary_copies_of_its_key() {
    let dir = TempDir::new().unwrap();
    let store = FileStore::open(dir.path(), StorageKey::for_app("app")).unwrap();
    let (own, other) = plant_leftovers(dir.path());
    store.save_secret(Secret::from_bytes([3u8; 32])).unwrap();
    for path in &own {
        assert!(!path.exists(), "{} survived a save", path.display());
    }
    assert!(other.exists(), "a save touched another key's file");
    assert_eq!(
        temp_files(dir.path()),
        vec![".jazz-auth-secret%3Aapp-two.secret.Xy12Ab.tmp".to_owned()]
    );
    assert_eq!(
        store.load_secret().unwrap(),
        Some(Secret::from_bytes([3u8; 32]))
    );
}

#[test]
fn opening_and_get_or_create_remove_stale_temporary_copies() {
    let dir = TempDir::new().unwrap();
    let (own, other) = plant_leftovers(dir.path());
    let store = FileStore::open(dir.path(), StorageKey::for_app("app")).unwrap();
    for path in &own {
        assert!(!path.exists(), "{} survived opening", path.display());
    }
    assert!(other.exists());

    let (own, _) = plant_leftovers(dir.path());
    store.get_or_create_secret().unwrap();
    for path in &own {
        assert!(!path.exists(), "{} survived get_or_create", path.display());
    }
}

#[test]
fn new_temporary_files_are_recognisable_and_never_left_behind() {
    let dir = TempDir::new().unwrap();
    let store = FileStore::open(dir.path(), StorageKey::for_app("app")).unwrap();
    for byte in 0..5u8 {
        store.save_secret(Secret::from_bytes([byte; 32])).unwrap();
    }
    store.clear_secret().unwrap();
    store.get_or_create_secret().unwrap();
    assert_eq!(temp_files(dir.path()), Vec::<String>::new());
}

#[test]
fn oversized_secret_files_are_corrupted_without_being_read_whole() {
    let dir = TempDir::new().unwrap();
    let store = FileStore::open(dir.path(), StorageKey::for_app("big")).unwrap();
    let file = std::fs::File::create(store.path()).unwrap();
    file.set_len(8 * 1024 * 1024 * 1024).unwrap(); // sparse: 8 GiB that no one may read
    let error = store.load_secret().unwrap_err();
    assert_eq!(error.code(), "secret-store-corrupted", "{error}");
    // get_or_create reports it too, and never replaces it.
    assert_eq!(
        store.get_or_create_secret().unwrap_err().code(),
        "secret-store-corrupted"
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_or_device_in_place_of_the_secret_file_does_not_hang() {
    let dir = TempDir::new().unwrap();
    let store = FileStore::open(dir.path(), StorageKey::for_app("fifo")).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(store.path())
        .status()
        .unwrap();
    assert!(status.success());
    // No writer ever opens the FIFO: a blocking open would hang this test.
    assert_eq!(store.load_secret().unwrap_err().code(), "secret-store-corrupted");

    let zero = FileStore::open(dir.path(), StorageKey::for_app("zero")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", zero.path()).unwrap();
    assert_eq!(zero.load_secret().unwrap_err().code(), "secret-store-corrupted");
}
