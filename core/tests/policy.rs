//! The policy engine against the case files in `tests/data/policies/`, real policy
//! files on disk, hostile documents, and property tests over random condition trees.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use localfirst_core::policy::{Operation, PolicyError, PolicySet, Row, MAX_DEPTH, MAX_FILE_BYTES};
use localfirst_core::session::{AuthMode, Session};
use localfirst_core::ErrorCode;
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::{json, Map, Value};

fn data_dir() -> PathBuf {
    common::data_file("policies")
}

const SEEDS_FILE: &str = "seeds-auth-mode.json";
const INVALID_FILE: &str = "invalid.json";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SessionSpec {
    user_id: String,
    auth_mode: AuthMode,
    #[serde(default)]
    claims: Map<String, Value>,
}

impl SessionSpec {
    fn session(&self) -> Session {
        Session::new(self.user_id.clone(), self.auth_mode).with_claims(self.claims.clone())
    }
}

/// A session or row given inline or by name.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Ref<T> {
    Named(String),
    Inline(T),
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Expect {
    Allow,
    Deny,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    table: String,
    op: Operation,
    session: Ref<SessionSpec>,
    old: Option<Ref<Row>>,
    new: Option<Ref<Row>>,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    description: String,
    policy: Value,
    #[serde(default)]
    sessions: BTreeMap<String, SessionSpec>,
    #[serde(default)]
    rows: BTreeMap<String, Row>,
    cases: Vec<Case>,
}

impl CaseFile {
    fn load(name: &str) -> CaseFile {
        let text = std::fs::read_to_string(data_dir().join(name)).unwrap();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn policy_set(&self) -> PolicySet {
        PolicySet::from_value(&self.policy).unwrap()
    }

    fn session(&self, r: &Ref<SessionSpec>) -> Session {
        match r {
            Ref::Named(name) => self
                .sessions
                .get(name)
                .unwrap_or_else(|| panic!("no session named {name}"))
                .session(),
            Ref::Inline(spec) => spec.session(),
        }
    }

    fn row<'a>(&'a self, r: &'a Option<Ref<Row>>) -> Option<&'a Row> {
        r.as_ref().map(|r| match r {
            Ref::Named(name) => self
                .rows
                .get(name)
                .unwrap_or_else(|| panic!("no row named {name}")),
            Ref::Inline(row) => row,
        })
    }
}

fn case_file_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json") && name != INVALID_FILE)
        .collect();
    names.sort();
    names
}

#[test]
fn table_driven_cases() {
    let names = case_file_names();
    assert!(
        names.len() >= 5,
        "expected at least five case files, found {names:?}"
    );
    assert!(names.iter().any(|n| n == SEEDS_FILE));
    let mut failures = Vec::new();
    let mut total = 0;
    for name in &names {
        let file = CaseFile::load(name);
        assert!(!file.description.is_empty(), "{name}: describe the file");
        let set = file.policy_set();
        let mut seen = [false, false];
        for case in &file.cases {
            total += 1;
            let session = file.session(&case.session);
            let result = set.check(
                &case.table,
                case.op,
                &session,
                file.row(&case.old),
                file.row(&case.new),
            );
            let got = match &result {
                Ok(()) => Expect::Allow,
                Err(PolicyError::Denied { table, operation }) => {
                    assert_eq!(table, &case.table, "{name}: {}", case.name);
                    assert_eq!(*operation, case.op, "{name}: {}", case.name);
                    assert_eq!(result.as_ref().unwrap_err().code(), "policy-denied");
                    Expect::Deny
                }
                Err(other) => panic!("{name}: {}: unexpected error {other:?}", case.name),
            };
            seen[(got == Expect::Deny) as usize] = true;
            let allows = set.allows(
                &case.table,
                case.op,
                &session,
                file.row(&case.old),
                file.row(&case.new),
            );
            assert_eq!(allows, got == Expect::Allow, "{name}: {}", case.name);
            if got != case.expect {
                failures.push(format!(
                    "{name}: {}: expected {:?}, got {:?}",
                    case.name, case.expect, got
                ));
            }
        }
        assert!(
            seen[0] && seen[1],
            "{name}: needs both allowed and denied cases"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total >= 100, "only {total} cases");
}

#[test]
fn seeds_local_first_can_read_but_not_insert() {
    let set = CaseFile::load(SEEDS_FILE).policy_set();
    let message: Row = json!({"id": "m1", "text": "hi", "owner_id": "u1"})
        .as_object()
        .cloned()
        .unwrap();
    let local = Session::new("u1", AuthMode::LocalFirst);
    let upgraded = Session::new("u1", AuthMode::External);
    assert_eq!(
        set.check("messages", Operation::Read, &local, Some(&message), None),
        Ok(())
    );
    assert_eq!(
        set.check("messages", Operation::Insert, &local, None, Some(&message)),
        Err(PolicyError::Denied {
            table: "messages".into(),
            operation: Operation::Insert
        })
    );
    assert_eq!(
        set.check(
            "messages",
            Operation::Insert,
            &upgraded,
            None,
            Some(&message)
        ),
        Ok(())
    );
    // The owner keeps edit rights across the upgrade: same user id, same rows.
    for session in [&local, &upgraded] {
        assert_eq!(
            set.check(
                "messages",
                Operation::Update,
                session,
                Some(&message),
                Some(&message)
            ),
            Ok(())
        );
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InvalidCase {
    name: String,
    #[serde(default)]
    policy: Option<Value>,
    #[serde(default)]
    text: Option<String>,
    location: String,
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InvalidFile {
    description: String,
    cases: Vec<InvalidCase>,
}

#[test]
fn invalid_policies_are_rejected_with_their_location() {
    let text = std::fs::read_to_string(data_dir().join(INVALID_FILE)).unwrap();
    let file: InvalidFile = serde_json::from_str(&text).unwrap();
    assert!(!file.description.is_empty());
    assert!(file.cases.len() >= 40);
    let mut failures = Vec::new();
    for case in &file.cases {
        let text = match (&case.policy, &case.text) {
            (Some(policy), None) => serde_json::to_string(policy).unwrap(),
            (None, Some(text)) => text.clone(),
            _ => panic!("{}: give exactly one of policy or text", case.name),
        };
        let result = PolicySet::from_json(&text);
        match &result {
            Err(error @ PolicyError::Invalid { location, message }) => {
                assert_eq!(error.code(), "policy-invalid");
                if *location != case.location || !message.contains(&case.message) {
                    failures.push(format!(
                        "{}: expected {:?} containing {:?}, got {:?}: {:?}",
                        case.name, case.location, case.message, location, message
                    ));
                }
                // The parsed-value entry point reports the same thing.
                if let Some(policy) = &case.policy {
                    assert_eq!(PolicySet::from_value(policy).err().as_ref(), Some(error));
                }
            }
            other => failures.push(format!(
                "{}: expected policy-invalid, got {other:?}",
                case.name
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn nested_nots(levels: usize) -> String {
    format!(
        "{{\"tables\":{{\"t\":{{\"read\":{}\"always\"{}}}}}}}",
        "{\"not\":".repeat(levels),
        "}".repeat(levels)
    )
}

#[test]
fn nesting_is_limited() {
    let session = Session::new("u", AuthMode::External);
    // The rule itself is level 1: MAX_DEPTH - 1 `not`s around a leaf is exactly the limit.
    let deepest = PolicySet::from_json(&nested_nots(MAX_DEPTH - 1)).unwrap();
    // An odd number of negations of `always` denies.
    assert_eq!(
        deepest.allows("t", Operation::Read, &session, None, None),
        (MAX_DEPTH - 1) % 2 == 0
    );
    match PolicySet::from_json(&nested_nots(MAX_DEPTH)) {
        Err(PolicyError::Invalid { location, message }) => {
            assert_eq!(
                location,
                format!("$.tables.t.read{}", ".not".repeat(MAX_DEPTH))
            );
            assert!(message.contains("nested deeper than 64"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    // Far deeper than the JSON parser's own limit: an error, not a stack overflow.
    let hostile = nested_nots(100_000);
    assert_eq!(
        PolicySet::from_json(&hostile).unwrap_err().code(),
        "policy-invalid"
    );
    let hostile_list = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(
        PolicySet::from_json(&hostile_list).unwrap_err().code(),
        "policy-invalid"
    );
    // A deep value built in memory (no parser limit) is stopped by the engine.
    // Built by hand: `json!` would re-serialise the nested value recursively.
    let wrap = |key: &str, inner: Value| {
        let mut map = Map::new();
        map.insert(key.to_owned(), inner);
        Value::Object(map)
    };
    let mut value = json!("always");
    for _ in 0..1000 {
        value = wrap("anyOf", Value::Array(vec![value]));
    }
    let doc = wrap("tables", wrap("t", wrap("read", value)));
    match PolicySet::from_value(&doc) {
        Err(PolicyError::Invalid { message, .. }) => assert!(message.contains("nested deeper")),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn every_policy_round_trips_through_json() {
    for name in case_file_names() {
        let set = CaseFile::load(&name).policy_set();
        let json = set.to_json();
        assert_eq!(json["version"], 1);
        assert_eq!(PolicySet::from_value(&json).unwrap(), set, "{name}");
        let text = serde_json::to_string(&set).unwrap();
        let back: PolicySet = serde_json::from_str(&text).unwrap();
        assert_eq!(back, set, "{name}");
        assert_eq!(text.parse::<PolicySet>().unwrap(), set, "{name}");
    }
}

#[test]
fn policy_sets_embed_in_serde_configs() {
    #[derive(Deserialize)]
    struct Config {
        policies: PolicySet,
    }
    let config: Config = serde_json::from_value(json!({
        "policies": {"description": "d", "tables": {"t": {"read": "always"}}}
    }))
    .unwrap();
    assert_eq!(config.policies.description(), Some("d"));
    assert_eq!(config.policies.tables().collect::<Vec<_>>(), ["t"]);
    let error = serde_json::from_value::<Config>(json!({
        "policies": {"tables": {"t": {"read": "sometimes"}}}
    }))
    .err()
    .unwrap();
    assert!(error.to_string().contains("$.tables.t.read"), "{error}");
}

#[test]
fn policy_files_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let seeds = CaseFile::load(SEEDS_FILE);
    let path = dir.path().join("policies.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&seeds.policy).unwrap()).unwrap();
    assert_eq!(PolicySet::from_file(&path).unwrap(), seeds.policy_set());

    let missing = dir.path().join("missing.json");
    let error = PolicySet::from_file(&missing).unwrap_err();
    assert_eq!(error.code(), "policy-io");
    assert!(error.to_string().contains("missing.json"), "{error}");

    assert_eq!(
        PolicySet::from_file(dir.path()).unwrap_err().code(),
        "policy-io"
    );

    let binary = dir.path().join("binary.json");
    std::fs::write(&binary, [b'{', 0xff, 0xfe, b'}']).unwrap();
    match PolicySet::from_file(&binary).unwrap_err() {
        PolicyError::Invalid { message, .. } => assert!(message.contains("UTF-8")),
        other => panic!("unexpected {other:?}"),
    }

    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"tables\": {\"t\": {\"read\": \"always\"}}").unwrap();
    match PolicySet::from_file(&broken).unwrap_err() {
        PolicyError::Invalid { location, .. } => assert_eq!(location, "line 1 column 36"),
        other => panic!("unexpected {other:?}"),
    }

    // Just over the limit, padded with whitespace that would otherwise parse fine.
    let large = dir.path().join("large.json");
    let mut text = String::from("{\"tables\": {}}");
    text.push_str(&" ".repeat(MAX_FILE_BYTES as usize + 1 - text.len()));
    std::fs::write(&large, &text).unwrap();
    let error = PolicySet::from_file(&large).unwrap_err();
    assert_eq!(error.code(), "policy-too-large");
    text.pop();
    std::fs::write(&large, &text).unwrap();
    assert!(PolicySet::from_file(&large).is_ok());
}

#[test]
fn documented_examples_load() {
    let path = common::repo_file("docs/POLICIES.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let mut sets = 0;
    let mut rules = 0;
    for block in doc.split("```json\n").skip(1) {
        let json = block.split("```").next().unwrap().trim();
        // Whole documents load as they are; single `"op": rule` lines go into a table.
        let text = if json.starts_with('{') {
            sets += 1;
            json.to_owned()
        } else {
            rules += 1;
            format!("{{\"tables\": {{\"t\": {{{json}}}}}}}")
        };
        let set = PolicySet::from_json(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert!(set.tables().count() > 0);
    }
    assert!(
        sets >= 3 && rules >= 2,
        "found {sets} sets and {rules} rules"
    );
}

#[test]
fn an_empty_set_denies_everything() {
    let set = PolicySet::from_json(r#"{"tables": {}}"#).unwrap();
    let session = Session::new("u", AuthMode::External);
    let row = Row::new();
    for op in Operation::ALL {
        assert_eq!(
            set.check("t", op, &session, Some(&row), Some(&row)),
            Err(PolicyError::Denied {
                table: "t".into(),
                operation: op
            })
        );
    }
}

// ---------------------------------------------------------------------------
// Property tests over random condition trees.

#[derive(Debug, Clone)]
enum TOperand {
    Session(&'static str),
    Column(&'static str, Option<&'static str>),
    Literal(Value),
}

#[derive(Debug, Clone)]
enum TCond {
    Word(&'static str),
    AllOf(Vec<TCond>),
    AnyOf(Vec<TCond>),
    Not(Box<TCond>),
    Compare(&'static str, TOperand, TOperand),
    In(TOperand, TOperand),
    Exists(TOperand),
    IsNull(TOperand),
}

const MODES: [&str; 3] = ["anonymous", "local-first", "external"];

fn literal_pool() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(false),
        json!(0),
        json!(1),
        json!(1.0),
        json!(-2.5),
        json!(u64::MAX),
        json!(""),
        json!("alice"),
        json!("bob"),
        json!("acme"),
        json!("local-first"),
        json!("external"),
        json!([]),
        json!(["alice", "bob"]),
        json!([1, "acme", null]),
        json!({"id": "acme"}),
    ]
}

fn operand() -> impl Strategy<Value = TOperand> {
    prop_oneof![
        prop::sample::select(vec![
            "authMode",
            "userId",
            "claims.org.id",
            "claims.org",
            "claims.roles",
            "claims.roles.0",
            "claims.n",
            "claims.missing.deeper",
        ])
        .prop_map(TOperand::Session),
        (
            prop::sample::select(vec!["a", "b", "owner_id", "$createdBy", "tags"]),
            prop::sample::select(vec![None, Some("old"), Some("new")]),
        )
            .prop_map(|(name, row)| TOperand::Column(name, row)),
        prop::sample::select(literal_pool()).prop_map(TOperand::Literal),
    ]
}

fn cond() -> impl Strategy<Value = TCond> {
    let leaf = prop_oneof![
        prop::sample::select(vec!["always", "never"]).prop_map(TCond::Word),
        (
            prop::sample::select(vec!["eq", "ne", "lt", "lte", "gt", "gte"]),
            operand(),
            operand()
        )
            .prop_map(|(op, a, b)| TCond::Compare(op, a, b)),
        (operand(), operand()).prop_map(|(a, b)| TCond::In(a, b)),
        operand().prop_map(TCond::Exists),
        operand().prop_map(TCond::IsNull),
    ];
    leaf.prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(TCond::AllOf),
            prop::collection::vec(inner.clone(), 0..4).prop_map(TCond::AnyOf),
            inner.prop_map(|c| TCond::Not(Box::new(c))),
        ]
    })
}

impl TOperand {
    /// Renders the operand, dropping row selectors outside update rules.
    fn json(&self, update: bool) -> Value {
        match self {
            TOperand::Session(field) => json!({ "session": field }),
            TOperand::Column(name, Some(row)) if update => json!({ "column": name, "row": row }),
            TOperand::Column(name, _) => json!({ "column": name }),
            TOperand::Literal(value) => json!({ "literal": value }),
        }
    }

    fn is_auth_mode(&self) -> bool {
        matches!(self, TOperand::Session("authMode"))
    }

    /// Replaces literals the validator rejects in this position.
    fn valid_literal(&self, ordering: bool, against_auth_mode: bool) -> TOperand {
        match self {
            TOperand::Literal(value) if against_auth_mode => {
                let mode = value
                    .as_str()
                    .filter(|s| MODES.contains(s))
                    .unwrap_or("local-first");
                TOperand::Literal(json!(mode))
            }
            TOperand::Literal(Value::Null) => TOperand::Literal(json!(0)),
            TOperand::Literal(value) if ordering && !(value.is_number() || value.is_string()) => {
                TOperand::Literal(json!("m"))
            }
            other => other.clone(),
        }
    }
}

impl TCond {
    /// Renders the tree as policy JSON that the validator accepts.
    fn json(&self, update: bool) -> Value {
        match self {
            TCond::Word(word) => json!(word),
            TCond::AllOf(items) => {
                json!({ "allOf": items.iter().map(|c| c.json(update)).collect::<Vec<_>>() })
            }
            TCond::AnyOf(items) => {
                json!({ "anyOf": items.iter().map(|c| c.json(update)).collect::<Vec<_>>() })
            }
            TCond::Not(inner) => json!({ "not": inner.json(update) }),
            TCond::Compare(op, a, b) => {
                let ordering = !matches!(*op, "eq" | "ne");
                let op = if ordering && (a.is_auth_mode() || b.is_auth_mode()) {
                    "eq"
                } else {
                    op
                };
                let ordering = !matches!(op, "eq" | "ne");
                let a2 = a.valid_literal(ordering, b.is_auth_mode());
                let b2 = b.valid_literal(ordering, a.is_auth_mode());
                json!({ op: [a2.json(update), b2.json(update)] })
            }
            TCond::In(needle, haystack) => {
                let needle = needle.valid_literal(false, false);
                let haystack = match haystack {
                    TOperand::Literal(Value::Array(items)) if needle.is_auth_mode() => {
                        TOperand::Literal(Value::Array(
                            items.iter().map(|_| json!("external")).collect(),
                        ))
                    }
                    TOperand::Literal(Value::Array(_)) => haystack.clone(),
                    TOperand::Literal(_) if needle.is_auth_mode() => {
                        TOperand::Literal(json!(["local-first"]))
                    }
                    TOperand::Literal(value) => TOperand::Literal(json!([value])),
                    other => other.clone(),
                };
                json!({ "in": [needle.json(update), haystack.json(update)] })
            }
            TCond::Exists(operand) | TCond::IsNull(operand) => {
                let key = if matches!(self, TCond::Exists(_)) {
                    "exists"
                } else {
                    "isNull"
                };
                let operand = match operand {
                    TOperand::Literal(_) => TOperand::Column("a", None),
                    other => other.clone(),
                };
                json!({ key: operand.json(update) })
            }
        }
    }
}

fn session() -> impl Strategy<Value = Session> {
    let claims = prop::sample::select(vec![
        json!({}),
        json!({"org": {"id": "acme"}, "roles": ["alice", "admin"], "n": 1}),
        json!({"org": null, "roles": "alice", "n": 1.0}),
        json!({"org": {"id": ["acme"]}, "roles": [], "n": "1"}),
    ]);
    (
        prop::sample::select(vec!["alice", "bob", ""]),
        prop::sample::select(vec![
            AuthMode::Anonymous,
            AuthMode::LocalFirst,
            AuthMode::External,
        ]),
        claims,
    )
        .prop_map(|(user, mode, claims)| {
            Session::new(user, mode).with_claims(claims.as_object().cloned().unwrap_or_default())
        })
}

fn row() -> impl Strategy<Value = Option<Row>> {
    let entry = (
        prop::sample::select(vec!["a", "b", "owner_id", "$createdBy", "tags"]),
        prop::sample::select(literal_pool()),
    );
    prop::option::weighted(
        0.9,
        prop::collection::vec(entry, 0..5).prop_map(|entries| {
            entries
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect()
        }),
    )
}

fn set_of(rules: &[(&str, Value)], op: Operation) -> PolicySet {
    let mut table = Map::new();
    for (name, rule) in rules {
        let mut ops = Map::new();
        ops.insert(op.as_str().to_owned(), rule.clone());
        table.insert((*name).to_owned(), Value::Object(ops));
    }
    PolicySet::from_value(&json!({ "tables": table })).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_trees_obey_the_laws(
        c in cond(),
        d in cond(),
        op in prop::sample::select(Operation::ALL.to_vec()),
        session in session(),
        old in row(),
        new in row(),
    ) {
        let update = op == Operation::Update;
        let (c, d) = (c.json(update), d.json(update));
        let set = set_of(
            &[
                ("c", c.clone()),
                ("not_c", json!({ "not": c })),
                ("not_not_c", json!({ "not": { "not": c } })),
                ("all_empty", json!({ "allOf": [] })),
                ("any_empty", json!({ "anyOf": [] })),
                ("all_c", json!({ "allOf": [c] })),
                ("any_c", json!({ "anyOf": [c] })),
                ("not_all", json!({ "not": { "allOf": [c, d] } })),
                ("any_not", json!({ "anyOf": [{ "not": c }, { "not": d }] })),
                ("not_any", json!({ "not": { "anyOf": [c, d] } })),
                ("all_not", json!({ "allOf": [{ "not": c }, { "not": d }] })),
            ],
            op,
        );
        let allows = |table: &str| set.allows(table, op, &session, old.as_ref(), new.as_ref());
        let base = allows("c");
        prop_assert_eq!(allows("not_not_c"), base);
        prop_assert!(allows("all_empty"));
        prop_assert!(!allows("any_empty"));
        prop_assert_eq!(allows("all_c"), base);
        prop_assert_eq!(allows("any_c"), base);
        prop_assert_eq!(allows("not_all"), allows("any_not"));
        prop_assert_eq!(allows("not_any"), allows("all_not"));
        // A condition and its negation are never both granted. Outside updates,
        // exactly one is; an update needs the condition on both rows, so both can fail.
        prop_assert!(!(base && allows("not_c")));
        if !update {
            prop_assert!(base || allows("not_c"));
        }
        // Checking is deterministic and agrees with `check`.
        prop_assert_eq!(
            set.check("c", op, &session, old.as_ref(), new.as_ref()).is_ok(),
            base
        );
        // The set round-trips through its JSON form.
        prop_assert_eq!(PolicySet::from_value(&set.to_json()).unwrap(), set);
    }

    #[test]
    fn is_null_is_the_negation_of_exists(
        target in operand(),
        session in session(),
        old in row(),
    ) {
        let target = match target {
            TOperand::Literal(_) => TOperand::Column("owner_id", None),
            other => other,
        };
        let set = set_of(
            &[
                ("exists", json!({ "exists": target.json(false) })),
                ("is_null", json!({ "isNull": target.json(false) })),
            ],
            Operation::Read,
        );
        let exists = set.allows("exists", Operation::Read, &session, old.as_ref(), None);
        let is_null = set.allows("is_null", Operation::Read, &session, old.as_ref(), None);
        prop_assert_ne!(exists, is_null);
    }

    #[test]
    fn update_checks_both_rows(
        c in cond(),
        session in session(),
        old in row(),
        new in row(),
    ) {
        // Without row selectors, an update is allowed exactly when the same
        // condition would allow reading both the old and the new row.
        let update = set_of(&[("t", c.json(false))], Operation::Update);
        let read = set_of(&[("t", c.json(false))], Operation::Read);
        let reads_both = read.allows("t", Operation::Read, &session, old.as_ref(), None)
            && read.allows("t", Operation::Read, &session, new.as_ref(), None);
        prop_assert_eq!(
            update.allows("t", Operation::Update, &session, old.as_ref(), new.as_ref()),
            reads_both
        );
    }

    #[test]
    fn arbitrary_json_never_panics(value in arbitrary_json()) {
        let _ = PolicySet::from_value(&value);
        let _ = PolicySet::from_value(&json!({ "tables": { "t": { "read": value.clone() } } }));
        let _ = PolicySet::from_value(&json!({ "tables": { "t": { "update": { "eq": [value.clone(), value] } } } }));
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = PolicySet::from_json(&text);
    }
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            "always", "never", "allOf", "anyOf", "not", "eq", "in", "exists", "session", "column",
            "literal", "authMode", "userId", "claims.a", "row", "old", "tables", "read", "update",
        ])
        .prop_map(Value::from),
        "[a-z.]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 64, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "allOf", "anyOf", "not", "eq", "lt", "in", "exists", "isNull", "session",
                        "column", "literal", "row", "tables", "t", "read", "update", "version",
                    ]),
                    inner
                ),
                0..3
            )
            .prop_map(|entries| Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect()
            )),
        ]
    })
}
