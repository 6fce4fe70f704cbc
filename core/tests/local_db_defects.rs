//! The local database's fixes from review: table names differing only in case,
//! wiping while other processes write, many processes opening a fresh
//! namespace, wiping databases that will not open, private modes under any
//! umask, and wiping a namespace that does not exist. Real files and real
//! processes (this test binary re-executed as a child).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use localfirst_core::db::{AuthConfig, Db, DbConfig, DbDeps, RowValues, StorageMode};
use localfirst_core::local_db::{
    namespace_dir, namespace_exists, wipe_namespace, Query, WipeOutcome, DB_FILE_NAME,
};
use localfirst_core::secret::Secret;
use localfirst_core::ErrorCode as _;
use serde_json::{json, Value};

const CHILD_ACTION: &str = "LOCALFIRST_DEFECTS_CHILD";
const CHILD_DIR: &str = "LOCALFIRST_DEFECTS_DIR";
const CHILD_APP: &str = "LOCALFIRST_DEFECTS_APP";
const CHILD_START: &str = "LOCALFIRST_DEFECTS_START_MS";

fn row(value: Value) -> RowValues {
    RowValues::from_json_value(value).unwrap()
}

fn config(dir: &Path, app: &str, byte: u8) -> DbConfig {
    DbConfig::new(
        app,
        StorageMode::DataDir(dir.to_str().unwrap().to_owned()),
        AuthConfig::LocalFirst(Secret::from_bytes([byte; 32])),
    )
}

fn open(dir: &Path, app: &str, byte: u8) -> Db {
    Db::open(config(dir, app, byte), DbDeps::default()).unwrap()
}

fn try_open(dir: &Path, app: &str) -> Result<Db, String> {
    Db::open(config(dir, app, 1), DbDeps::default()).map_err(|e| e.code().as_str().to_owned())
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

/// Starts this test binary as a child running `action` (see [`child_entry`]).
fn spawn_child(action: &str, dir: &Path, app: &str, start_ms: u128, umask_000: bool) -> Child {
    let exe = std::env::current_exe().unwrap();
    let mut command = if umask_000 {
        let mut c = Command::new("sh");
        c.args(["-c", "umask 000; exec \"$0\" \"$@\""]).arg(exe);
        c
    } else {
        Command::new(exe)
    };
    command
        .args(["--exact", "child_entry", "--ignored", "--nocapture"])
        .env(CHILD_ACTION, action)
        .env(CHILD_DIR, dir)
        .env(CHILD_APP, app)
        .env(CHILD_START, start_ms.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a child; returns its stdout, failing the test if the child failed.
fn finish(child: Child, what: &str) -> String {
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child {what} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The body of the child processes; does nothing when run directly.
#[test]
#[ignore = "run by the tests of this file in a child process"]
fn child_entry() {
    let (Ok(action), Ok(dir)) = (std::env::var(CHILD_ACTION), std::env::var(CHILD_DIR)) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let app = std::env::var(CHILD_APP).unwrap();
    let start: u128 = std::env::var(CHILD_START).unwrap().parse().unwrap();
    while now_ms() < start {
        std::thread::sleep(Duration::from_millis(1));
    }
    match action.as_str() {
        "write-through-wipes" => {
            // Every failure but `storage-reset` fails the child. The parent starts
            // wiping at once, so even the open can see a wipe land: open again.
            let mut resets = 0;
            let db = loop {
                match Db::open(config(&dir, &app, 9), DbDeps::default()) {
                    Ok(db) => break db,
                    Err(e) if e.code() == "storage-reset" => resets += 1,
                    Err(e) => panic!("open failed with {}: {e}", e.code()),
                }
            };
            for i in 0..600 {
                match db.insert("t", row(json!({"i": i}))) {
                    Ok(_) => {}
                    Err(e) if e.code() == "storage-reset" => resets += 1,
                    Err(e) => panic!("write {i} failed with {}: {e}", e.code()),
                }
                match db.query(&Query::table("t")) {
                    Ok(_) => {}
                    Err(e) if e.code() == "storage-reset" => resets += 1,
                    Err(e) => panic!("read {i} failed with {}: {e}", e.code()),
                }
            }
            println!("resets={resets}");
        }
        "open-and-write" => {
            let db = open(&dir, &app, 9);
            for i in 0..3 {
                db.insert("t", row(json!({"pid": std::process::id(), "i": i})))
                    .unwrap_or_else(|e| panic!("insert failed with {}: {e}", e.code()));
            }
            db.query(&Query::table("t"))
                .unwrap_or_else(|e| panic!("query failed with {}: {e}", e.code()));
        }
        "modes" => {
            // The umask really is 000 here: a plain new file is 0666.
            let probe = dir.join("probe");
            std::fs::write(&probe, b"x").unwrap();
            assert_eq!(mode(&probe), 0o666, "the child runs under umask 000");
            let data = dir.join("data").join("deeper");
            let db = open(&data, &app, 9);
            db.insert("t", row(json!({"x": 1}))).unwrap();
            let ns = namespace_dir(&data, &app);
            let db_file = ns.join(DB_FILE_NAME);
            for (path, expected) in [
                (dir.join("data"), 0o700),
                (data.clone(), 0o700),
                (ns.clone(), 0o700),
                (db_file.clone(), 0o600),
                (ns.join(format!("{DB_FILE_NAME}-wal")), 0o600),
                (ns.join(format!("{DB_FILE_NAME}-shm")), 0o600),
            ] {
                assert_eq!(mode(&path), expected, "{}", path.display());
            }
            // A file left readable by others (older versions) is made private.
            drop(db);
            set_mode(&db_file, 0o644);
            let db = open(&data, &app, 9);
            assert_eq!(db.query(&Query::table("t")).unwrap().len(), 1);
            assert_eq!(mode(&db_file), 0o600);
        }
        other => panic!("unknown child action {other}"),
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn mode(_: &Path) -> u32 {
    0
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) {}

#[test]
fn table_names_differing_only_in_case_are_refused_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), "app", 1);
    let kept = db.insert("todos", row(json!({"id": "a", "title": "milk"})));
    assert!(kept.is_ok());
    let clash = db
        .insert("Todos", row(json!({"id": "b", "title": "eggs"})))
        .unwrap_err();
    assert_eq!(clash.code(), "table-name-clash", "{clash}");
    assert!(clash.to_string().contains("todos"), "{clash}");
    let many = db
        .insert_many("TODOS", vec![row(json!({"id": "c"}))])
        .unwrap_err();
    assert_eq!(many.code(), "table-name-clash");
    assert_eq!(
        db.create_index("Todos", "title").unwrap_err().code(),
        "table-name-clash"
    );

    // Each name reads only its own table; the refused one has none.
    let rows = db.query(&Query::table("todos")).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], "a");
    assert!(db.query(&Query::table("Todos")).unwrap().is_empty());
    assert_eq!(db.get("Todos", "a").unwrap(), None);
    assert_eq!(db.delete("Todos", "a").unwrap_err().code(), "not-found");
    assert_eq!(
        db.update("Todos", "a", row(json!({"title": "x"})))
            .unwrap_err()
            .code(),
        "not-found"
    );
    assert_eq!(db.get("todos", "a").unwrap().unwrap()["title"], "milk");

    // The outbox holds exactly the one insert, into `todos`.
    let outbox = db.pending_outbox(10).unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(
        (outbox[0].table.as_str(), outbox[0].row_id.as_str()),
        ("todos", "a")
    );

    // Columns differing in case are distinct JSON keys: each gets its own index.
    db.create_index("todos", "title").unwrap();
    db.create_index("todos", "Title").unwrap();
    db.create_index("todos", "createdby").unwrap();
    let conn = rusqlite::Connection::open(db.database_path().unwrap()).unwrap();
    let mut indexes: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 't_todos' AND name LIKE 'x%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    indexes.sort();
    assert_eq!(
        indexes,
        [
            "x5_todos_^title",
            "x5_todos_createdBy",
            "x5_todos_createdby^",
            "x5_todos_title",
        ]
    );
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM lf_tables ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(tables, ["todos"]);
}

#[test]
fn a_writer_in_another_process_sees_only_storage_reset_while_wiped() {
    let dir = tempfile::tempdir().unwrap();
    // The namespace exists before the child starts writing.
    drop(open(dir.path(), "app", 1));
    let child = spawn_child("write-through-wipes", dir.path(), "app", 0, false);
    let mut wiped = 0;
    let mut rounds = 0;
    let mut child = Some(child);
    while let Some(running) = child.as_mut() {
        if running.try_wait().unwrap().is_some() {
            break;
        }
        if wipe_namespace(dir.path(), "app").unwrap() == WipeOutcome::Wiped {
            wiped += 1;
        }
        rounds += 1;
        std::thread::sleep(Duration::from_millis(3));
        if rounds > 20_000 {
            child = None;
        }
    }
    let stdout = finish(child.expect("the child finishes"), "writer");
    assert!(
        wiped >= 2,
        "the child's database was wiped {wiped} times in {rounds} rounds"
    );
    // Every wipe after the first deleted a database the child had recreated,
    // which it does only after reporting `storage-reset`.
    assert!(!stdout.contains("resets=0\n"), "{stdout}");
}

#[test]
fn sixteen_processes_opening_a_fresh_namespace_never_fail() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..3 {
        let app = format!("fresh-{round}");
        let start = now_ms() + 400;
        let children: Vec<Child> = (0..16)
            .map(|_| spawn_child("open-and-write", dir.path(), &app, start, false))
            .collect();
        for (i, child) in children.into_iter().enumerate() {
            finish(child, &format!("{app} #{i}"));
        }
        let db = open(dir.path(), &app, 1);
        assert_eq!(db.query(&Query::table("t")).unwrap().len(), 48, "{app}");
    }
}

/// Damages the database file at a path.
type Damage = fn(&Path);

#[test]
fn databases_that_will_not_open_can_be_wiped() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, Damage); 4] = [
        ("a-directory", |path| {
            // A directory, with contents, in place of the database and its WAL.
            for suffix in ["", "-wal", "-shm"] {
                let file = format!("{}{suffix}", path.display());
                let _ = std::fs::remove_file(&file);
            }
            std::fs::create_dir_all(path.join("inner")).unwrap();
            std::fs::write(path.join("inner").join("f"), "x").unwrap();
            std::fs::create_dir(format!("{}-wal", path.display())).unwrap();
        }),
        ("not-a-database", |path| {
            std::fs::write(path, "this is not a database\n".repeat(300)).unwrap();
        }),
        ("corrupt", |path| {
            // A real database whose first page (header and schema) is damaged.
            let mut bytes = std::fs::read(path).unwrap();
            for byte in bytes.iter_mut().take(4096).skip(16) {
                *byte = 0xA5;
            }
            std::fs::write(path, bytes).unwrap();
        }),
        ("too-new", |path| {
            let conn = rusqlite::Connection::open(path).unwrap();
            conn.pragma_update(None, "user_version", 99).unwrap();
        }),
    ];
    for (app, damage) in cases {
        let path = {
            let db = open(dir.path(), app, 1);
            db.insert("t", row(json!({"id": "r"}))).unwrap();
            db.database_path().unwrap()
        };
        damage(Path::new(&path));
        let refused = try_open(dir.path(), app).err();
        assert!(refused.is_some(), "{app}: the damaged database opened");
        assert_eq!(wipe_namespace(dir.path(), app).unwrap(), WipeOutcome::Wiped);
        let ns = namespace_dir(dir.path(), app);
        assert_eq!(std::fs::read_dir(&ns).unwrap().count(), 0, "{app}");
        assert!(!namespace_exists(dir.path(), app));
        // Wiping again finds nothing; the namespace opens fresh.
        assert_eq!(
            wipe_namespace(dir.path(), app).unwrap(),
            WipeOutcome::NothingThere
        );
        let db = try_open(dir.path(), app).unwrap();
        assert!(db.query(&Query::table("t")).unwrap().is_empty(), "{app}");
    }
}

#[test]
fn wiping_a_missing_namespace_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("typo").join("data");
    assert!(!namespace_exists(&data, "app"));
    assert_eq!(
        wipe_namespace(&data, "app").unwrap(),
        WipeOutcome::NothingThere
    );
    assert!(!dir.path().join("typo").exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_live_db_of_this_process_reports_the_wipe_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), "app", 1);
    db.insert("t", row(json!({"id": "r"}))).unwrap();
    assert!(namespace_exists(dir.path(), "app"));
    assert_eq!(
        wipe_namespace(dir.path(), "app").unwrap(),
        WipeOutcome::Wiped
    );
    assert_eq!(
        db.query(&Query::table("t")).unwrap_err().code(),
        "storage-reset"
    );
    assert!(db.query(&Query::table("t")).unwrap().is_empty());
    db.insert("t", row(json!({"id": "again"}))).unwrap();
    assert_eq!(db.query(&Query::table("t")).unwrap().len(), 1);
}

#[cfg(unix)]
#[test]
fn directories_and_files_are_private_under_umask_000() {
    let dir = tempfile::tempdir().unwrap();
    let child = spawn_child("modes", dir.path(), "app", 0, true);
    finish(child, "modes");
}
