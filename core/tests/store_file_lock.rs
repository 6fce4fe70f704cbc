//! The file store's lock is waited for a bounded time: a process (or thread) that
//! holds it and hangs makes others fail with `secret-store-locked` after the
//! store's lock timeout, never block forever. And a store opened for reading
//! creates no directory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use localfirst_core::secret::Secret;
use localfirst_core::secret_store::{
    AuthSecretStore as _, AuthSecretStoreExt as _, FileStore, FileStoreOptions, StorageKey,
};
use localfirst_core::ErrorCode as _;
use tempfile::TempDir;

const CHILD_DIR: &str = "LOCALFIRST_LOCK_CHILD_DIR";

fn key() -> StorageKey {
    StorageKey::for_app("locked")
}

/// Run as a child process (the test binary itself): takes the store's lock, says
/// so on stdout and keeps it until stdin closes.
#[test]
fn lock_holder_child() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let store = FileStore::open(Path::new(&dir), key()).unwrap();
    let _held = store.lock_exclusive().unwrap();
    println!("\nlock-is-held");
    let mut rest = Vec::new();
    std::io::stdin().read_to_end(&mut rest).unwrap();
}

/// Starts a child process holding the lock of `dir`'s store; returns once it holds
/// it, with the rest of its output to read.
fn hold_in_another_process(dir: &Path) -> (Child, BufReader<ChildStdout>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "lock_holder_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while line.trim() != "lock-is-held" {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "the child ended without taking the lock"
        );
    }
    (child, reader)
}

fn release((mut child, mut output): (Child, BufReader<ChildStdout>)) {
    drop(child.stdin.take());
    let mut rest = String::new();
    output.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}");
}

#[test]
fn a_lock_held_by_another_process_fails_after_the_timeout() {
    let dir = TempDir::new().unwrap();
    let patient = FileStore::open(dir.path(), key()).unwrap();
    patient.save_secret(Secret::from_bytes([3; 32])).unwrap();
    let short = FileStoreOptions::new().lock_timeout(Duration::from_millis(300));
    let store = short.open(dir.path(), key()).unwrap();
    let holder = hold_in_another_process(dir.path());

    let started = Instant::now();
    let err = store.get_or_create_secret().unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(err.code(), "secret-store-locked", "{err}");
    assert!(err.to_string().contains("300 ms"), "{err}");
    for outcome in [
        store.save_secret(Secret::from_bytes([4; 32])),
        store.clear_secret(),
    ] {
        assert_eq!(outcome.unwrap_err().code(), "secret-store-locked");
    }
    // Opening takes the lock too (to remove leftovers), so it is bounded as well.
    let err = short.open(dir.path(), key()).unwrap_err();
    assert_eq!(err.code(), "secret-store-locked", "{err}");
    // A read takes no lock.
    assert_eq!(
        store.load_secret().unwrap(),
        Some(Secret::from_bytes([3; 32]))
    );

    release(holder);
    assert_eq!(
        store.get_or_create_secret().unwrap(),
        Secret::from_bytes([3; 32]),
        "nothing was replaced while locked"
    );
    store.clear_secret().unwrap();
}

#[test]
fn a_lock_held_by_another_thread_is_waited_for_within_the_timeout() {
    let dir = TempDir::new().unwrap();
    let store = FileStoreOptions::new()
        .lock_timeout(Duration::from_millis(200))
        .open(dir.path(), key())
        .unwrap();
    let held = store.lock_exclusive().unwrap();
    let waiting = {
        let store = store.clone();
        std::thread::spawn(move || store.get_or_create_secret())
    };
    let err = waiting.join().unwrap().unwrap_err();
    assert_eq!(err.code(), "secret-store-locked", "{err}");
    drop(held);

    // A holder that lets go within the wait is waited for.
    let patient = FileStoreOptions::new()
        .lock_timeout(Duration::from_secs(120))
        .open(dir.path(), key())
        .unwrap();
    let held = patient.lock_exclusive().unwrap();
    let waiting = {
        let patient = patient.clone();
        std::thread::spawn(move || patient.get_or_create_secret())
    };
    std::thread::sleep(Duration::from_millis(50));
    drop(held);
    assert!(waiting.join().unwrap().is_ok());
}

#[test]
fn open_existing_creates_nothing() {
    let root = TempDir::new().unwrap();
    let dir = root.path().join("missing").join("secrets");
    assert!(FileStore::open_existing(&dir, key()).unwrap().is_none());
    assert!(!root.path().join("missing").exists());
    let created = FileStore::open(&dir, key()).unwrap();
    created.save_secret(Secret::from_bytes([5; 32])).unwrap();
    let existing = FileStore::open_existing(&dir, key()).unwrap().unwrap();
    assert_eq!(
        existing.load_secret().unwrap(),
        Some(Secret::from_bytes([5; 32]))
    );
    // A file where the directory should be is an error, not absence.
    let file = root.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    assert_eq!(
        FileStore::open_existing(&file, key()).unwrap_err().code(),
        "secret-store-io"
    );
}
