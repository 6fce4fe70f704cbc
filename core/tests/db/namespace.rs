//! Namespace directories: every valid app id (up to 200 bytes of any UTF-8)
//! gets its own directory, short enough for every file system, and no two app
//! ids share one — not even on a case-insensitive file system.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::collections::HashSet;

use crate::support::*;
use localfirst_core::db::{Db, DbDeps};
use localfirst_core::local_db::{encode_app_id, namespace_dir, MAX_NAMESPACE_DIR_LEN};
use localfirst_core::token::{self, VerifyOptions};
use serde_json::{json, Value};

fn corpus() -> Value {
    data_json("db/app_ids.json")
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn directory_names_match_the_corpus() {
    let corpus = corpus();
    let vectors = corpus["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 15);
    let mut folded = HashSet::new();
    for vector in vectors {
        let app_id = vector["app_id"].as_str().unwrap();
        let dir = encode_app_id(app_id);
        assert_eq!(dir, vector["dir"].as_str().unwrap(), "{app_id:?}");
        assert!(dir.len() <= MAX_NAMESPACE_DIR_LEN, "{app_id:?}");
        assert!(dir.is_ascii() && !dir.is_empty());
        assert!(!dir.contains(['/', '\\', '\0']) && dir != "." && dir != "..");
        assert!(
            folded.insert(dir.to_lowercase()),
            "{app_id:?} collides case-insensitively"
        );
    }
}

/// Review finding: `MyApp` and `myapp` shared one database on case-insensitive
/// file systems (the directory names differed only in letter case).
#[test]
fn app_ids_differing_only_in_case_get_distinct_directories() {
    let corpus = corpus();
    for group in corpus["case_groups"].as_array().unwrap() {
        let ids = strings(group);
        let folded: HashSet<String> = ids
            .iter()
            .map(|id| encode_app_id(id).to_lowercase())
            .collect();
        assert_eq!(folded.len(), ids.len(), "{ids:?}");
    }

    // And on disk: two Dbs, two databases.
    let dir = tempfile::tempdir().unwrap();
    let deps = DbDeps::default();
    let upper = local_first(dir.path(), "MyApp", 1, &deps);
    let lower = local_first(dir.path(), "myapp", 1, &deps);
    upper
        .insert("notes", row(json!({"id": "n1", "text": "upper"})))
        .unwrap();
    assert_eq!(lower.get("notes", "n1").unwrap(), None);
    assert_ne!(
        upper.database_path().unwrap().to_lowercase(),
        lower.database_path().unwrap().to_lowercase()
    );
}

/// Review finding: a valid 200-byte app id expanded to a 600-byte directory
/// name and `Db::open` failed with "File name too long".
#[test]
fn the_longest_app_ids_open_and_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let deps = DbDeps::default();
    let long_ids = [
        "é".repeat(100),
        format!("{}è", "é".repeat(99)),
        "A".repeat(200),
        format!("com.example.{}", "Ünicode".repeat(23)),
    ];
    let mut dirs = HashSet::new();
    for app_id in &long_ids {
        assert!(app_id.len() <= 200, "{}", app_id.len());
        let db = local_first(dir.path(), app_id, 3, &deps);
        assert_eq!(&db.app_id(), app_id);
        let ns = namespace_dir(dir.path(), app_id);
        let name = ns.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(name.len() <= MAX_NAMESPACE_DIR_LEN, "{}", name.len());
        assert!(dirs.insert(name.to_lowercase()), "{app_id:?}");
        assert!(std::path::Path::new(&db.database_path().unwrap()).starts_with(&ns));
        db.insert("notes", row(json!({"id": "n1", "app": app_id})))
            .unwrap();
        drop(db);
        let again = local_first(dir.path(), app_id, 3, &deps);
        let note = again.get("notes", "n1").unwrap().expect("row survives");
        assert_eq!(note["app"], json!(app_id));
    }
    // One directory per app id, nothing else.
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        long_ids.len()
    );
    // Only the directory name is shortened: tokens carry the exact app id.
    let (clock, deps) = fixed_clock();
    let db = Db::open(
        on_disk(dir.path(), &long_ids[0]).with_secret(secret(3)),
        deps,
    )
    .unwrap();
    let minted = db.current_token().unwrap().unwrap();
    let verified = token::verify(&minted, &VerifyOptions::new(&long_ids[0]), &*clock).unwrap();
    assert_eq!(verified.user_id.to_string(), db.user_id());
    assert!(token::verify(&minted, &VerifyOptions::new(&long_ids[1]), &*clock).is_err());
}
