//! Write answers never tell whether a row the session cannot read exists: an
//! insert's policy runs before the existence check, and a policy refusal of an
//! update or delete of an unreadable row is answered as for a missing row.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use common::db_client::db_for;
use common::*;
use localfirst_core::db::RowValues;
use localfirst_core::policy::PolicySet;
use serde_json::{json, Value};

/// Everyone may file a `note`; only its writer reads, changes or deletes it.
/// The `board` is read by everyone, changed by its writer only.
const POLICIES: &str = r#"{
  "tables": {
    "secrets": {
      "read": {"eq": [{"column": "$createdBy"}, {"session": "userId"}]},
      "insert": {"eq": [{"column": "kind"}, {"literal": "note"}]},
      "update": {"eq": [{"column": "$createdBy"}, {"session": "userId"}]},
      "delete": {"eq": [{"column": "$createdBy"}, {"session": "userId"}]}
    },
    "board": {
      "read": "always",
      "insert": "always",
      "delete": {"eq": [{"column": "$createdBy"}, {"session": "userId"}]}
    }
  }
}"#;

/// The answer to one entry (`ack`, or the rejection's code and message with
/// the row id blanked out).
async fn answer(client: &mut Client, entry: Value) -> String {
    let id = entry["id"].as_str().unwrap().to_owned();
    let entry_seq = entry["seq"].clone();
    let (rejected, ack) = client.push(json!([entry])).await;
    match rejected.first() {
        Some(r) => format!(
            "{}: {}",
            r["code"].as_str().unwrap(),
            r["message"].as_str().unwrap().replace(&id, "<id>")
        ),
        None => {
            assert_eq!(ack["seqs"], json!([entry_seq]));
            "ack".to_owned()
        }
    }
}

#[tokio::test]
async fn answers_are_the_same_whether_or_not_an_unreadable_row_exists() {
    let mut config = config(&clock());
    config.policies = Some(PolicySet::from_json(POLICIES).unwrap());
    let server = start(config).await;
    let mut alice = connect_user(server.local_addr(), 1, "alice").await;
    alice
        .push(json!([insert(
            1,
            "secrets",
            "taken",
            json!({"kind": "note"})
        )]))
        .await;
    let mut mallory = connect_user(server.local_addr(), 2, "mallory").await;
    let mut seq = 0;
    let mut answers = Vec::new();
    let mut both = |op: &str, payload: Option<Value>| {
        ["taken", "free"].map(|id| {
            seq += 1;
            let mut entry = json!({"seq": seq, "table": "secrets", "op": op, "id": id});
            if let Some(payload) = &payload {
                entry["payload"] = payload.clone();
            }
            entry
        })
    };
    for (op, payload) in [
        ("insert", Some(json!({"kind": "other"}))),
        ("update", Some(json!({"kind": "mine now"}))),
        ("delete", None),
    ] {
        let [existing, missing] = both(op, payload);
        let on_existing = answer(&mut mallory, existing).await;
        let on_missing = answer(&mut mallory, missing).await;
        assert_eq!(on_existing, on_missing, "{op}");
        answers.push(on_existing);
    }
    let codes: Vec<&str> = answers
        .iter()
        .map(|a| a.split(':').next().unwrap())
        .collect();
    assert_eq!(codes, ["policy-denied", "not-found", "ack"]);
    // Nothing happened to Alice's row.
    let (changes, _) = alice.pull_all(0).await;
    let rows = apply(&changes);
    assert_eq!(rows["secrets/taken"]["kind"], "note");
    assert_eq!(changes.len(), 1);
}

#[tokio::test]
async fn a_readable_row_still_gets_policy_denied() {
    let mut config = config(&clock());
    config.policies = Some(PolicySet::from_json(POLICIES).unwrap());
    let server = start(config).await;
    let mut alice = connect_user(server.local_addr(), 1, "alice").await;
    alice
        .push(json!([insert(1, "board", "post", json!({"text": "hi"}))]))
        .await;
    let mut bob = connect_user(server.local_addr(), 2, "bob").await;
    let delete = json!({"seq": 1, "table": "board", "op": "delete", "id": "post"});
    assert!(answer(&mut bob, delete).await.starts_with("policy-denied"));
    let insert_again = insert(2, "board", "post", json!({"text": "mine"}));
    assert!(answer(&mut bob, insert_again)
        .await
        .starts_with("row-exists"));
    // The owner deletes it; a second delete of the gone row is acknowledged.
    let delete = json!({"seq": 2, "table": "board", "op": "delete", "id": "post"});
    assert_eq!(answer(&mut alice, delete).await, "ack");
    let delete = json!({"seq": 3, "table": "board", "op": "delete", "id": "post"});
    assert_eq!(answer(&mut alice, delete).await, "ack");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clients_sync_report_does_not_tell_either() {
    let mut config = config(&clock());
    config.policies = Some(PolicySet::from_json(POLICIES).unwrap());
    let server = start(config).await;
    let url = format!("ws://{}", server.local_addr());
    let alice = db_for(&url, 1, clock());
    alice
        .insert(
            "secrets",
            RowValues::new().set("id", "taken").set("kind", "note"),
        )
        .unwrap();
    alice.sync_once().await.unwrap();
    let mallory = db_for(&url, 2, clock());
    for id in ["taken", "free"] {
        mallory
            .insert(
                "secrets",
                RowValues::new().set("id", id).set("kind", "probe"),
            )
            .unwrap();
    }
    let report = mallory.sync_once().await.unwrap();
    assert_eq!(report.rejected, 2);
    let codes: Vec<String> = mallory
        .sync_status()
        .last_rejections
        .iter()
        .map(|r| r.code.clone())
        .collect();
    assert_eq!(codes, ["policy-denied", "policy-denied"]);
}
