//! The conformance suite every `ServerStore` backend runs.
//!
//! Call [`run_all`] with a factory returning fresh stores, plus an optional
//! `reopen` that opens a second handle on the *same* storage (a restart or
//! another replica); pass `None` for in-memory backends.

#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::sync::Arc;

use localfirst_core::error::Code;
use localfirst_core::policy::Row;
use localfirst_server::store::{
    ChangeOp, Decide, Decision, Outcome, PushEntry, Rejection, ServerStore, WriteOp, Writer,
};
use serde_json::{json, Value};

pub type Store = Arc<dyn ServerStore>;

pub fn obj(value: Value) -> Row {
    value.as_object().cloned().unwrap()
}

pub fn entry(seq: i64, op: WriteOp, id: &str, payload: Option<Value>) -> PushEntry {
    PushEntry {
        seq,
        table: "notes".into(),
        op,
        id: id.into(),
        payload: payload.map(obj),
        at: None,
    }
}

/// An entry of `table` (other than `notes`).
pub fn entry_in(table: &str, seq: i64, op: WriteOp, id: &str, payload: Option<Value>) -> PushEntry {
    PushEntry {
        table: table.into(),
        ..entry(seq, op, id, payload)
    }
}

/// Inserts put the payload, updates merge it, deletes delete; `"deny": true`
/// in a payload is rejected.
pub fn simple_decide() -> Decide {
    Arc::new(|entry: &PushEntry, old: Option<&Row>| {
        let payload = entry.payload.clone().unwrap_or_default();
        if payload.get("deny") == Some(&Value::Bool(true)) {
            return Err(Rejection::new(Code::PolicyDenied, "denied by test"));
        }
        match (entry.op, old) {
            (WriteOp::Insert, Some(_)) => Err(Rejection::new(Code::RowExists, "exists")),
            (WriteOp::Insert, None) => Ok(Decision::Put(payload)),
            (WriteOp::Update, None) => Err(Rejection::new(Code::NotFound, "missing")),
            (WriteOp::Update, Some(old)) => {
                let mut row = old.clone();
                row.extend(payload);
                Ok(Decision::Put(row))
            }
            (WriteOp::Delete, None) => Ok(Decision::Nothing),
            (WriteOp::Delete, Some(_)) => Ok(Decision::Delete),
        }
    })
}

fn writer(user: &str, client: &str) -> Writer {
    Writer {
        user_id: user.into(),
        client_id: client.into(),
    }
}

/// Pushes `entry` alone as `w` and returns its outcome.
async fn push_one(store: &Store, w: &Writer, entry: PushEntry) -> Outcome {
    let result = store.push(w, vec![entry], simple_decide()).await.unwrap();
    assert_eq!(result.outcomes.len(), 1, "{result:?}");
    result.outcomes.into_iter().next().unwrap().1
}

/// Whether `outcome` is a rejection with `code`.
fn refused(outcome: &Outcome, code: &str) -> bool {
    matches!(outcome, Outcome::Rejected(r) if r.code == code)
}

pub async fn run_all<F>(factory: F, reopen: Option<&dyn Fn(&Store) -> Store>)
where
    F: Fn() -> Store,
{
    applies_in_order_with_a_monotonic_log(factory()).await;
    resent_batches_apply_once(factory()).await;
    a_reused_key_with_other_content_is_refused_not_acknowledged(factory()).await;
    idempotency_is_scoped_by_user_and_client(factory()).await;
    rejections_are_recorded_and_change_nothing(factory()).await;
    pages_of_the_log(factory()).await;
    pages_are_bounded_in_bytes(factory()).await;
    subscribers_hear_new_cursors(factory()).await;
    table_names_differing_in_case_clash(factory()).await;
    if let Some(reopen) = reopen {
        state_survives_a_second_handle(factory(), reopen).await;
        table_names_survive_a_second_handle(factory(), reopen).await;
    }
    close_makes_calls_fail(factory()).await;
}

pub async fn applies_in_order_with_a_monotonic_log(store: Store) {
    assert_eq!(store.latest_cursor().await.unwrap(), 0);
    let w = writer("u1", "c1");
    let result = store
        .push(
            &w,
            vec![
                entry(1, WriteOp::Insert, "a", Some(json!({"text": "one"}))),
                entry(2, WriteOp::Update, "a", Some(json!({"text": "two"}))),
                entry(3, WriteOp::Insert, "b", Some(json!({"text": "b"}))),
                entry(4, WriteOp::Delete, "b", None),
            ],
            simple_decide(),
        )
        .await
        .unwrap();
    assert_eq!(result.outcomes.len(), 4);
    assert!(result.outcomes.iter().all(|(_, o)| *o == Outcome::Applied));
    assert_eq!(result.cursor, store.latest_cursor().await.unwrap());
    let row = store.get_row("notes", "a").await.unwrap().unwrap();
    assert_eq!(row["text"], "two");
    assert_eq!(store.get_row("notes", "b").await.unwrap(), None);

    let page = store.changes_since(0, 100).await.unwrap();
    assert_eq!(page.changes.len(), 4);
    assert!(!page.more);
    let cursors: Vec<u64> = page.changes.iter().map(|c| c.cursor).collect();
    assert!(cursors.windows(2).all(|w| w[0] < w[1]), "{cursors:?}");
    assert_eq!(page.cursor, *cursors.last().unwrap());
    assert_eq!(page.changes[1].old.as_ref().unwrap()["text"], "one");
    assert_eq!(page.changes[1].row.as_ref().unwrap()["text"], "two");
    assert_eq!(page.changes[3].op, ChangeOp::Delete);
    assert_eq!(page.changes[3].row, None);
    assert_eq!(page.changes[3].old.as_ref().unwrap()["text"], "b");
    // Deleting a row that is gone is acknowledged and logs nothing.
    let again = store
        .push(
            &w,
            vec![entry(5, WriteOp::Delete, "b", None)],
            simple_decide(),
        )
        .await
        .unwrap();
    assert_eq!(again.outcomes, vec![(5, Outcome::Applied)]);
    assert_eq!(store.changes_since(0, 100).await.unwrap().changes.len(), 4);
}

pub async fn resent_batches_apply_once(store: Store) {
    let w = writer("u1", "c1");
    let batch = vec![
        entry(1, WriteOp::Insert, "a", Some(json!({"n": 1}))),
        entry(2, WriteOp::Update, "a", Some(json!({"n": 2}))),
    ];
    store
        .push(&w, batch.clone(), simple_decide())
        .await
        .unwrap();
    let cursor = store.latest_cursor().await.unwrap();
    // The acknowledgement was lost: the client sends the batch again, plus a new entry.
    let mut resent = batch;
    resent.push(entry(3, WriteOp::Update, "a", Some(json!({"m": 3}))));
    let result = store.push(&w, resent, simple_decide()).await.unwrap();
    assert_eq!(
        result.outcomes,
        vec![
            (1, Outcome::Duplicate),
            (2, Outcome::Duplicate),
            (3, Outcome::Applied)
        ]
    );
    assert_eq!(
        store
            .changes_since(cursor, 100)
            .await
            .unwrap()
            .changes
            .len(),
        1
    );
    let row = store.get_row("notes", "a").await.unwrap().unwrap();
    assert_eq!(row["n"], 2);
    assert_eq!(row["m"], 3);
}

/// Two devices with one client id (a copied data directory) write different
/// entries under the same seqs: the second is refused with `client-id-reused`,
/// from the first reused key to the end of its batch, and nothing of it is
/// applied or recorded; the same content under the same key is still a resend.
pub async fn a_reused_key_with_other_content_is_refused_not_acknowledged(store: Store) {
    let w = writer("u1", "c1");
    let first = vec![
        entry(1, WriteOp::Insert, "a", Some(json!({"n": 1}))),
        entry(2, WriteOp::Insert, "b", Some(json!({"n": 2}))),
    ];
    store
        .push(&w, first.clone(), simple_decide())
        .await
        .unwrap();
    let cursor = store.latest_cursor().await.unwrap();

    // The copy resends seq 1 unchanged (written before the copy), then its own
    // seq 2 and 3, different from the original's seq 2.
    let copy = vec![
        first[0].clone(),
        entry(2, WriteOp::Insert, "x", Some(json!({"n": 20}))),
        entry(3, WriteOp::Update, "x", Some(json!({"n": 30}))),
    ];
    let result = store.push(&w, copy.clone(), simple_decide()).await.unwrap();
    assert_eq!(result.outcomes[0], (1, Outcome::Duplicate));
    for (seq, outcome) in &result.outcomes[1..] {
        assert!(
            matches!(outcome, Outcome::Rejected(r) if r.code == "client-id-reused"),
            "seq {seq}: {outcome:?}"
        );
    }
    assert_eq!(store.get_row("notes", "x").await.unwrap(), None);
    assert_eq!(
        store.latest_cursor().await.unwrap(),
        cursor,
        "nothing applied"
    );

    // Nothing was recorded for the refused keys: the original device's seq 3
    // still applies, and its own seq 2 is still a plain resend.
    let original = store
        .push(
            &w,
            vec![
                first[1].clone(),
                entry(3, WriteOp::Update, "b", Some(json!({"m": 3}))),
            ],
            simple_decide(),
        )
        .await
        .unwrap();
    assert_eq!(
        original.outcomes,
        vec![(2, Outcome::Duplicate), (3, Outcome::Applied)]
    );
    // The copy, under a new client id, gets its writes applied once.
    let renewed = writer("u1", "c1-renewed");
    let result = store
        .push(&renewed, copy[1..].to_vec(), simple_decide())
        .await
        .unwrap();
    assert_eq!(
        result.outcomes,
        vec![(2, Outcome::Applied), (3, Outcome::Applied)]
    );
    assert_eq!(store.get_row("notes", "x").await.unwrap().unwrap()["n"], 30);
    // The same content under the same key is answered as before: a resend.
    let again = store.push(&w, first, simple_decide()).await.unwrap();
    assert_eq!(
        again.outcomes,
        vec![(1, Outcome::Duplicate), (2, Outcome::Duplicate)]
    );
    // A rejected entry resent with other content is a reuse too, not the old rejection.
    store
        .push(
            &w,
            vec![entry(4, WriteOp::Insert, "d", Some(json!({"deny": true})))],
            simple_decide(),
        )
        .await
        .unwrap();
    let other = store
        .push(
            &w,
            vec![entry(4, WriteOp::Insert, "d", Some(json!({"deny": false})))],
            simple_decide(),
        )
        .await
        .unwrap();
    assert!(matches!(&other.outcomes[0].1, Outcome::Rejected(r) if r.code == "client-id-reused"));
    // The writer's time is part of the content: the same entry with the same
    // `at` is a resend, with another `at` another device's write.
    let at = |t: u64| PushEntry {
        at: Some(t),
        ..entry(5, WriteOp::Insert, "e", Some(json!({"n": 5})))
    };
    assert_eq!(
        push_one(&store, &w, at(1_700_000_000)).await,
        Outcome::Applied
    );
    assert_eq!(
        push_one(&store, &w, at(1_700_000_000)).await,
        Outcome::Duplicate
    );
    let later = push_one(&store, &w, at(1_700_000_001)).await;
    assert!(refused(&later, "client-id-reused"), "{later:?}");
}

/// On a store opened over tables of an earlier version (no content digests, no
/// table-name registry) holding the row `notes/a` and the record
/// `("u1", "c1", 1)` (no digest) for its insert: that record answers a resend
/// as before, whatever the content (it cannot tell), new records tell a reused
/// client id apart, and `notes` was registered from the rows already there.
pub async fn records_without_digest_answer_as_before(store: Store) {
    let w = writer("u1", "c1");
    let old_key = store
        .push(
            &w,
            vec![entry(1, WriteOp::Insert, "a", Some(json!({"n": 1})))],
            simple_decide(),
        )
        .await
        .unwrap();
    assert_eq!(old_key.outcomes, vec![(1, Outcome::Duplicate)]);
    let fresh = vec![entry(2, WriteOp::Insert, "b", Some(json!({"n": 2})))];
    let applied = store.push(&w, fresh, simple_decide()).await.unwrap();
    assert_eq!(applied.outcomes, vec![(2, Outcome::Applied)]);
    let other = store
        .push(
            &w,
            vec![entry(2, WriteOp::Insert, "c", Some(json!({"n": 3})))],
            simple_decide(),
        )
        .await
        .unwrap();
    assert!(
        matches!(&other.outcomes[0].1, Outcome::Rejected(r) if r.code == "client-id-reused"),
        "{other:?}"
    );
    assert_eq!(store.get_row("notes", "c").await.unwrap(), None);
    let upper = entry_in("NOTES", 1, WriteOp::Insert, "d", Some(json!({})));
    let clash = push_one(&store, &writer("u1", "c2"), upper).await;
    assert!(refused(&clash, "table-name-clash"), "{clash:?}");
    store.close().await.unwrap();
}

pub async fn idempotency_is_scoped_by_user_and_client(store: Store) {
    store
        .push(
            &writer("u1", "c1"),
            vec![entry(1, WriteOp::Insert, "a", Some(json!({})))],
            simple_decide(),
        )
        .await
        .unwrap();
    for w in [writer("u1", "c2"), writer("u2", "c1")] {
        let id = format!("{}-{}", w.user_id, w.client_id);
        let result = store
            .push(
                &w,
                vec![entry(1, WriteOp::Insert, &id, Some(json!({})))],
                simple_decide(),
            )
            .await
            .unwrap();
        assert_eq!(result.outcomes, vec![(1, Outcome::Applied)]);
        assert!(store.get_row("notes", &id).await.unwrap().is_some());
    }
}

pub async fn rejections_are_recorded_and_change_nothing(store: Store) {
    let w = writer("u1", "c1");
    let result = store
        .push(
            &w,
            vec![
                entry(1, WriteOp::Insert, "a", Some(json!({"deny": true}))),
                entry(2, WriteOp::Update, "missing", Some(json!({"x": 1}))),
                entry(3, WriteOp::Insert, "ok", Some(json!({"x": 1}))),
            ],
            simple_decide(),
        )
        .await
        .unwrap();
    assert!(matches!(&result.outcomes[0].1, Outcome::Rejected(r) if r.code == "policy-denied"));
    assert!(matches!(&result.outcomes[1].1, Outcome::Rejected(r) if r.code == "not-found"));
    assert_eq!(result.outcomes[2], (3, Outcome::Applied));
    assert_eq!(store.get_row("notes", "a").await.unwrap(), None);
    assert_eq!(store.changes_since(0, 10).await.unwrap().changes.len(), 1);
    // A resent rejected entry gets the same rejection, even if it would pass now.
    let allow_all: Decide = Arc::new(|e: &PushEntry, _: Option<&Row>| {
        Ok(Decision::Put(e.payload.clone().unwrap_or_default()))
    });
    let again = store
        .push(
            &w,
            vec![entry(1, WriteOp::Insert, "a", Some(json!({"deny": true})))],
            allow_all,
        )
        .await
        .unwrap();
    assert!(
        matches!(&again.outcomes[0].1, Outcome::Rejected(r) if r.code == "policy-denied" && r.message == "denied by test")
    );
    assert_eq!(store.get_row("notes", "a").await.unwrap(), None);
}

pub async fn pages_of_the_log(store: Store) {
    let w = writer("u1", "c1");
    let entries = (1..=25)
        .map(|i| entry(i, WriteOp::Insert, &format!("r{i}"), Some(json!({"i": i}))))
        .collect();
    store.push(&w, entries, simple_decide()).await.unwrap();
    let mut cursor = 0;
    let mut seen = Vec::new();
    loop {
        let page = store.changes_since(cursor, 10).await.unwrap();
        assert!(page.changes.len() <= 10);
        seen.extend(page.changes.iter().map(|c| c.id.clone()));
        assert!(page.cursor >= cursor);
        cursor = page.cursor;
        if !page.more {
            break;
        }
    }
    let expected: Vec<String> = (1..=25).map(|i| format!("r{i}")).collect();
    assert_eq!(seen, expected);
    let empty = store.changes_since(cursor, 10).await.unwrap();
    assert!(empty.changes.is_empty());
    assert_eq!(empty.cursor, cursor);
    assert!(!empty.more);
}

/// A page stops before the change that would take its stored text over the
/// budget, but always holds one change.
pub async fn pages_are_bounded_in_bytes(store: Store) {
    let w = writer("u1", "c1");
    let entries = (1..=5)
        .map(|i| {
            entry(
                i,
                WriteOp::Insert,
                &format!("r{i}"),
                Some(json!({"pad": "p".repeat(1000)})),
            )
        })
        .collect();
    store.push(&w, entries, simple_decide()).await.unwrap();
    let page = store.changes_within(0, 100, 2500).await.unwrap();
    let ids: Vec<&str> = page.changes.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["r1", "r2"]);
    assert!(page.more);
    assert_eq!(page.cursor, page.changes[1].cursor);
    let tiny = store.changes_within(page.cursor, 100, 10).await.unwrap();
    assert_eq!(
        tiny.changes.len(),
        1,
        "the first change comes whatever its size"
    );
    assert_eq!(tiny.changes[0].id, "r3");
    assert!(tiny.more);
    let rest = store
        .changes_within(tiny.cursor, 100, usize::MAX)
        .await
        .unwrap();
    let ids: Vec<&str> = rest.changes.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["r4", "r5"]);
    assert!(!rest.more);
    let by_count = store.changes_within(0, 2, usize::MAX).await.unwrap();
    assert_eq!(by_count.changes.len(), 2);
    assert!(by_count.more);
}

pub async fn subscribers_hear_new_cursors(store: Store) {
    let mut rx = store.subscribe();
    let w = writer("u1", "c1");
    let result = store
        .push(
            &w,
            vec![entry(1, WriteOp::Insert, "a", Some(json!({})))],
            simple_decide(),
        )
        .await
        .unwrap();
    let heard = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(heard, result.cursor);
    // A batch that changes nothing (all duplicates) notifies nobody.
    store
        .push(
            &w,
            vec![entry(1, WriteOp::Insert, "a", Some(json!({})))],
            simple_decide(),
        )
        .await
        .unwrap();
    assert!(rx.try_recv().is_err());
}

fn is_clash(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Rejected(r) if r.code == "table-name-clash" && r.message.contains("\"todos\""))
}

/// No client can store `Todos` beside `todos` (SQLite names ignore case): the
/// first name of a key wins, in a later batch as in the same one; deletes of
/// the other name change nothing and are not refused.
pub async fn table_names_differing_in_case_clash(store: Store) {
    let w = writer("u1", "c1");
    let first = store
        .push(
            &w,
            vec![
                entry_in("todos", 1, WriteOp::Insert, "a", Some(json!({}))),
                entry_in("TODOS", 2, WriteOp::Insert, "b", Some(json!({}))),
            ],
            simple_decide(),
        )
        .await
        .unwrap();
    assert_eq!(first.outcomes[0], (1, Outcome::Applied));
    assert!(is_clash(&first.outcomes[1].1), "{:?}", first.outcomes);
    let later = store
        .push(
            &w,
            vec![
                entry_in("Todos", 3, WriteOp::Insert, "c", Some(json!({}))),
                entry_in("todos", 4, WriteOp::Insert, "d", Some(json!({}))),
                entry_in("Todos", 5, WriteOp::Delete, "a", None),
                entry_in("todo", 6, WriteOp::Insert, "e", Some(json!({}))),
            ],
            simple_decide(),
        )
        .await
        .unwrap();
    assert!(is_clash(&later.outcomes[0].1), "{:?}", later.outcomes);
    assert_eq!(later.outcomes[1], (4, Outcome::Applied));
    assert_eq!(
        later.outcomes[2],
        (5, Outcome::Applied),
        "nothing to delete"
    );
    assert_eq!(later.outcomes[3], (6, Outcome::Applied));
    assert!(store.get_row("todos", "a").await.unwrap().is_some());
    assert_eq!(store.get_row("Todos", "c").await.unwrap(), None);
    let tables: Vec<String> = store
        .changes_since(0, 100)
        .await
        .unwrap()
        .changes
        .into_iter()
        .map(|c| c.table)
        .collect();
    assert_eq!(tables, ["todos", "todos", "todo"]);
}

/// The registered names are storage, not memory: another handle (a restart,
/// another replica) refuses the clashing name too.
pub async fn table_names_survive_a_second_handle(store: Store, reopen: &dyn Fn(&Store) -> Store) {
    let w = writer("u1", "c1");
    store
        .push(
            &w,
            vec![entry_in("todos", 1, WriteOp::Insert, "a", Some(json!({})))],
            simple_decide(),
        )
        .await
        .unwrap();
    store.close().await.unwrap();
    let other = reopen(&store);
    let result = other
        .push(
            &w,
            vec![entry_in("ToDos", 2, WriteOp::Insert, "b", Some(json!({})))],
            simple_decide(),
        )
        .await
        .unwrap();
    assert!(is_clash(&result.outcomes[0].1), "{:?}", result.outcomes);
}

pub async fn state_survives_a_second_handle(store: Store, reopen: &dyn Fn(&Store) -> Store) {
    let w = writer("u1", "c1");
    store
        .push(
            &w,
            vec![entry(1, WriteOp::Insert, "a", Some(json!({"kept": true})))],
            simple_decide(),
        )
        .await
        .unwrap();
    let cursor = store.latest_cursor().await.unwrap();
    store.close().await.unwrap();
    let other = reopen(&store);
    assert_eq!(other.latest_cursor().await.unwrap(), cursor);
    assert_eq!(
        other.get_row("notes", "a").await.unwrap().unwrap()["kept"],
        true
    );
    let resent = other
        .push(
            &w,
            vec![entry(1, WriteOp::Insert, "a", Some(json!({"kept": true})))],
            simple_decide(),
        )
        .await
        .unwrap();
    assert_eq!(resent.outcomes, vec![(1, Outcome::Duplicate)]);
}

pub async fn close_makes_calls_fail(store: Store) {
    store.close().await.unwrap();
    assert!(store.latest_cursor().await.is_err());
    assert!(store.changes_since(0, 1).await.is_err());
}
