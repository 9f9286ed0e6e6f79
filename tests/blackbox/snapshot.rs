//! Schema snapshots: `rectus schema snapshot|diff|apply` and `/schema/snapshot|diff|apply`.
//!
//! The round trip takes a snapshot of raw-SQL tables on one kind of database, applies it
//! to an empty database of each other kind, and compares what both servers report on the
//! portable parts. Applying goes through the schema service's change methods, so those
//! tests need them (`round_trip_*`, `http_apply_*`); the others do not.

use crate::harness::{run_cli, Kind, Server, TestDb};
use crate::introspection::model_sql;
use crate::on_every_db;
use rectus::schema::snapshot::portable_meta;
use rectus::system::tables;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The introspection model without the tables Directus's collection payload cannot
/// describe (a composite key, no key): everything else must survive a round trip.
fn portable_model(kind: Kind) -> String {
    model_sql(kind)
        .split(";\n")
        .filter(|s| {
            let s = s.trim_start();
            !s.starts_with("CREATE TABLE links") && !s.starts_with("CREATE TABLE logs")
        })
        .collect::<Vec<_>>()
        .join(";\n")
}

const MODEL_COLLECTIONS: &[&str] = &["devices", "kinds", "nodes", "owners", "pets", "tags"];

fn others(kind: Kind) -> Vec<Kind> {
    [Kind::Sqlite, Kind::Postgres, Kind::MySql]
        .into_iter()
        .filter(|k| *k != kind && k.enabled())
        .collect()
}

fn temp_file(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("rectus_snap_{}_{}", std::process::id(), rand_tag()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn rand_tag() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        & 0xffff_ffff
}

fn num(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64()),
        other => other.clone(),
    }
}

fn meta_of(v: &Value) -> Option<&Map<String, Value>> {
    v.as_object()
}

/// What every database can express about a field (see `schema::snapshot`'s docs).
fn portable_field(f: &Value) -> Value {
    let ty = f["type"].as_str().unwrap_or("");
    let s = &f["schema"];
    let auto = s["has_auto_increment"] == true;
    let pk = s["is_primary_key"] == true;
    let default = match (&s["default_value"], ty) {
        (Value::Number(n), "boolean") => json!(n.as_f64() == Some(1.0)),
        (Value::String(t), "integer" | "bigInteger" | "float" | "decimal") => {
            json!(t.parse::<f64>().ok())
        }
        (v, _) => num(v),
    };
    json!({
        "type": if pk && auto && ty == "bigInteger" { "integer" } else { ty },
        "is_nullable": s["is_nullable"],
        "default_value": if auto { Value::Null } else { default },
        "max_length": if matches!(ty, "string" | "hash") { s["max_length"].clone() } else { Value::Null },
        "numeric_precision": if ty == "decimal" { s["numeric_precision"].clone() } else { Value::Null },
        "numeric_scale": if ty == "decimal" { s["numeric_scale"].clone() } else { Value::Null },
        "is_unique": s["is_unique"],
        "is_primary_key": s["is_primary_key"],
        "has_auto_increment": s["has_auto_increment"],
        "foreign_key_table": s["foreign_key_table"],
        "foreign_key_column": s["foreign_key_column"],
        "meta": portable_meta(&tables::FIELDS, meta_of(&f["meta"])),
    })
}

fn action(v: &Value) -> Value {
    match v.as_str() {
        Some("RESTRICT") => json!("NO ACTION"),
        _ => v.clone(),
    }
}

fn portable_relation(r: &Value) -> Value {
    json!({
        "related_collection": r["related_collection"],
        "foreign_key_column": r["schema"]["foreign_key_column"],
        "on_delete": action(&r["schema"]["on_delete"]),
        "on_update": action(&r["schema"]["on_update"]),
        "meta": portable_meta(&tables::RELATIONS, meta_of(&r["meta"])),
    })
}

/// The model's collections, fields and relations as `name → portable form`.
async fn portable_api(server: &Server) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mine = |c: &Value| MODEL_COLLECTIONS.contains(&c.as_str().unwrap_or(""));
    let collections = server.get("/collections").await;
    for c in collections.assert_ok().as_array().unwrap() {
        if mine(&c["collection"]) {
            out.insert(
                format!("collection {}", c["collection"].as_str().unwrap()),
                json!({
                    "folder": c["schema"].is_null(),
                    "meta": portable_meta(&tables::COLLECTIONS, meta_of(&c["meta"])),
                }),
            );
        }
    }
    let fields = server.get("/fields").await;
    for f in fields.assert_ok().as_array().unwrap() {
        if mine(&f["collection"]) {
            out.insert(
                format!(
                    "field {}.{}",
                    f["collection"].as_str().unwrap(),
                    f["field"].as_str().unwrap()
                ),
                portable_field(f),
            );
        }
    }
    let relations = server.get("/relations").await;
    for r in relations.assert_ok().as_array().unwrap() {
        if mine(&r["collection"]) {
            out.insert(
                format!(
                    "relation {}.{}",
                    r["collection"].as_str().unwrap(),
                    r["field"].as_str().unwrap()
                ),
                portable_relation(r),
            );
        }
    }
    out
}

/// `b` (the target) describes the same model as `a` (the source). Metadata is compared
/// where the source has some: where it has none, the snapshot says `meta: null`, which has
/// no opinion, and the target keeps what its service adds on creation (Directus marks a
/// uuid primary key `special: [uuid]`, for one).
#[track_caller]
fn assert_same_model(a: &BTreeMap<String, Value>, b: &BTreeMap<String, Value>, what: &str) {
    let keys_a: Vec<&String> = a.keys().collect();
    let keys_b: Vec<&String> = b.keys().collect();
    assert_eq!(keys_a, keys_b, "{what}: not the same objects");
    for (k, va) in a {
        let mut vb = b[k].clone();
        if va["meta"] == json!({}) {
            vb["meta"] = json!({});
        }
        assert_eq!(va, &vb, "{what}: {k} differs");
    }
}

async fn cli_and_http_snapshots_agree(kind: Kind) {
    let db = TestDb::create(kind).await;
    db.exec(&portable_model(kind)).await;
    let server = Server::start(&db).await;

    let file = temp_file("model.yaml");
    let out = run_cli(&db, &["schema", "snapshot", file.to_str().unwrap()]);
    assert!(out.success, "{out:?}");
    let from_file: Value = serde_yaml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();

    let http = server.get("/schema/snapshot").await;
    let snap = http.assert_ok().clone();
    assert_eq!(snap, from_file, "CLI and HTTP snapshots differ");
    assert_eq!(snap["version"], 1);
    assert_eq!(snap["directus"], env!("CARGO_PKG_VERSION"));
    let vendor = match kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
        Kind::MySql => "mysql",
    };
    assert_eq!(snap["vendor"], vendor);
    let names: Vec<&str> = snap["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["collection"].as_str().unwrap())
        .collect();
    assert_eq!(names, MODEL_COLLECTIONS, "user collections only, sorted");
    let fields: Vec<(String, String)> = snap["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["collection"].as_str().unwrap().to_string(),
                f["field"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut sorted = fields.clone();
    sorted.sort();
    assert_eq!(fields, sorted, "fields sorted by collection and field");
    assert_eq!(snap["relations"].as_array().unwrap().len(), 4);

    // Stdout, as JSON.
    let out = run_cli(&db, &["schema", "snapshot", "--format", "json"]);
    assert!(out.success, "{out:?}");
    let printed: Value = serde_json::from_str(&out.stdout).expect("JSON on stdout");
    assert_eq!(printed, snap);

    // A download.
    let export = server.get("/schema/snapshot?export=yaml").await;
    assert_eq!(export.status, 200);
    assert!(export.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/yaml"));
    assert!(export.headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    let yaml: Value = serde_yaml::from_str(export.body.as_str().unwrap()).unwrap();
    assert_eq!(yaml, snap);

    // Non-admins get nothing.
    server
        .anonymous()
        .get("/schema/snapshot")
        .await
        .assert_error(403, "FORBIDDEN");

    // Identical schema: no steps.
    let out = run_cli(&db, &["schema", "diff", file.to_str().unwrap()]);
    assert!(out.success, "{out:?}");
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    assert!(out.stdout.starts_with("No changes"), "{}", out.stdout);
    let out = run_cli(
        &db,
        &["schema", "apply", file.to_str().unwrap(), "--dry-run"],
    );
    assert!(out.success, "{out:?}");
    assert!(out.stdout.starts_with("No changes"), "{}", out.stdout);
    std::fs::remove_dir_all(file.parent().unwrap()).ok();
}
on_every_db!(
    cli_and_http_snapshots_are_the_same,
    cli_and_http_snapshots_agree
);

async fn cli_plans_for_another_database(kind: Kind) {
    let source = TestDb::create(kind).await;
    source.exec(&portable_model(kind)).await;
    let file = temp_file("model.json");
    // A database Rectus never started on is described without creating system tables.
    let out = run_cli(&source, &["schema", "snapshot", file.to_str().unwrap()]);
    assert!(out.success, "{out:?}");
    let tables = source
        .query(match kind {
            Kind::Postgres => "SELECT tablename AS name FROM pg_tables WHERE tablename LIKE 'rectus%'",
            Kind::MySql => "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'rectus%'",
            Kind::Sqlite => "SELECT name FROM sqlite_schema WHERE name LIKE 'rectus%'",
        })
        .await;
    assert!(tables.is_empty(), "snapshot created {tables:?}");
    serde_json::from_str::<Value>(&std::fs::read_to_string(&file).unwrap())
        .expect("a .json name writes JSON");
    for other in others(kind) {
        let target = TestDb::create(other).await;
        let out = run_cli(&target, &["schema", "diff", file.to_str().unwrap()]);
        assert!(out.success, "{out:?}");
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(
            lines,
            [
                "create collection devices (2 fields)",
                "create collection kinds (18 fields)",
                "create collection nodes (3 fields)",
                "create collection owners (2 fields)",
                "create collection pets (3 fields)",
                "create collection tags (2 fields)",
                "create relation nodes.parent -> nodes",
                "create relation nodes.tag -> tags",
                "create relation pets.home -> owners",
                "create relation pets.owner -> owners",
            ],
            "{kind:?} -> {other:?}"
        );
        let out = run_cli(
            &target,
            &["schema", "apply", file.to_str().unwrap(), "--dry-run"],
        );
        assert!(out.success, "{out:?}");
        assert_eq!(out.stdout.lines().count(), 11, "{}", out.stdout);
        assert!(out.stdout.ends_with("Dry run: nothing was changed.\n"));
    }
    std::fs::remove_dir_all(file.parent().unwrap()).ok();
}
on_every_db!(
    cli_plans_a_snapshot_for_other_databases,
    cli_plans_for_another_database
);

async fn bad_files_fail_in_one_line(kind: Kind) {
    let db = TestDb::create(kind).await;
    let dir = temp_file("x").parent().unwrap().to_path_buf();
    let cases = [
        ("broken.yaml", "collections: [\n  - {"),
        ("version.yaml", "version: 7\ncollections: []\n"),
        ("noversion.json", "{\"collections\": []}"),
        (
            "orphan.yaml",
            "version: 1\ncollections: []\nfields:\n  - {collection: a, field: b, type: string}\n",
        ),
    ];
    for (name, text) in cases {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        for cmd in ["diff", "apply"] {
            let out = run_cli(&db, &["schema", cmd, path.to_str().unwrap()]);
            assert!(!out.success, "{cmd} {name}: {out:?}");
            assert_eq!(
                out.stderr.trim().lines().count(),
                1,
                "{cmd} {name}: {}",
                out.stderr
            );
            assert!(out.stderr.contains(name), "{cmd} {name}: {}", out.stderr);
            assert!(out.stdout.is_empty(), "{cmd} {name}: {}", out.stdout);
        }
    }
    let out = run_cli(
        &db,
        &[
            "schema",
            "apply",
            dir.join("missing.yaml").to_str().unwrap(),
        ],
    );
    assert!(!out.success);
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
    let out = run_cli(&db, &["schema", "snapshot", "--format", "xml"]);
    assert!(!out.success);
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
    std::fs::remove_dir_all(dir).ok();
}
on_every_db!(
    bad_snapshot_files_fail_in_one_line,
    bad_files_fail_in_one_line
);

async fn http_diff_and_hash_checks(kind: Kind) {
    let db = TestDb::create(kind).await;
    db.exec(&portable_model(kind)).await;
    let server = Server::start(&db).await;
    let snap = server.get("/schema/snapshot").await.assert_ok().clone();

    let same = server.post("/schema/diff", snap.clone()).await;
    assert_eq!(same.status, 204, "{:?}", same.body);

    // Without `tags`, with a new field on `owners`, and another delete action.
    let mut wanted = snap.clone();
    wanted["collections"]
        .as_array_mut()
        .unwrap()
        .retain(|c| c["collection"] != "tags");
    // A relation into a removed collection goes with it.
    wanted["relations"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["related_collection"] != "tags");
    let fields = wanted["fields"].as_array_mut().unwrap();
    fields.retain(|f| f["collection"] != "tags");
    fields.push(
        json!({"collection": "owners", "field": "email", "type": "string",
                       "meta": null, "schema": {"max_length": 80, "is_nullable": true}}),
    );
    for r in wanted["relations"].as_array_mut().unwrap() {
        if r["field"] == "owner" {
            r["schema"]["on_delete"] = json!("CASCADE");
        }
    }
    let d = server.post("/schema/diff", wanted.clone()).await;
    let data = d.assert_ok();
    let hash = data["hash"].as_str().unwrap().to_string();
    assert_eq!(hash.len(), 64);
    let diff = &data["diff"];
    assert_eq!(
        diff["collections"],
        json!([{"action": "delete", "target": "collection", "collection": "tags"}])
    );
    assert_eq!(diff["fields"].as_array().unwrap().len(), 1, "{diff}");
    assert_eq!(diff["fields"][0]["action"], "create");
    assert_eq!(diff["fields"][0]["field"], "email");
    assert_eq!(diff["fields"][0]["payload"]["schema"]["max_length"], 80);
    assert_eq!(diff["relations"].as_array().unwrap().len(), 2, "{diff}");
    assert_eq!(
        diff["relations"][0],
        json!({"action": "delete", "target": "relation", "collection": "nodes", "field": "tag"})
    );
    assert_eq!(diff["relations"][1]["action"], "update");
    assert_eq!(
        diff["relations"][1]["payload"]["schema"]["on_delete"],
        "CASCADE"
    );

    // Merge mode keeps what the snapshot does not mention.
    let merged = server.post("/schema/diff?mode=merge", wanted.clone()).await;
    let merged = &merged.assert_ok()["diff"];
    assert_eq!(merged["collections"], json!([]));
    assert_eq!(merged["fields"].as_array().unwrap().len(), 1);
    assert_eq!(merged["relations"].as_array().unwrap().len(), 1);
    server
        .post("/schema/diff?mode=sideways", wanted.clone())
        .await
        .assert_error(400, "INVALID_QUERY");

    // The same hash twice: the schema did not change.
    let again = server.post("/schema/diff", wanted.clone()).await;
    assert_eq!(again.assert_ok()["hash"], hash.as_str());

    // Bad bodies and hashes.
    server
        .post("/schema/diff", json!({"version": 2}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .post("/schema/diff", json!([1]))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .admin()
        .send_raw("POST", "/schema/diff", "application/json", "{")
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .anonymous()
        .post("/schema/diff", snap.clone())
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .post("/schema/apply", json!({"hash": "nope", "diff": diff}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .post(
            "/schema/apply",
            json!({"hash": hash, "diff": {"fields": [{"action": "create"}]}}),
        )
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .anonymous()
        .post("/schema/apply", json!({"hash": hash, "diff": diff}))
        .await
        .assert_error(403, "FORBIDDEN");
    // A matching hash and nothing to do.
    let noop = server
        .post(
            "/schema/apply",
            json!({"hash": hash, "diff": {"collections": [], "fields": [], "relations": []}}),
        )
        .await;
    assert_eq!(noop.status, 204, "{:?}", noop.body);
    // A YAML upload is a snapshot too.
    let yaml = serde_yaml::to_string(&snap).unwrap();
    let r = server
        .admin()
        .send_raw("POST", "/schema/diff", "text/yaml", &yaml)
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
}
on_every_db!(
    http_diff_reports_steps_and_checks_hashes,
    http_diff_and_hash_checks
);

// ----- Applying (needs the schema service's change methods) -----

async fn round_trip(kind: Kind) {
    let source = TestDb::create(kind).await;
    source.exec(&portable_model(kind)).await;
    let source_server = Server::start(&source).await;
    let file = temp_file("model.yaml");
    let out = run_cli(&source, &["schema", "snapshot", file.to_str().unwrap()]);
    assert!(out.success, "{out:?}");
    let expected = portable_api(&source_server).await;
    assert_eq!(
        expected.keys().filter(|k| k.starts_with("field ")).count(),
        30
    );

    for other in others(kind) {
        let target = TestDb::create(other).await;
        let out = run_cli(&target, &["schema", "apply", file.to_str().unwrap(), "-y"]);
        assert!(out.success, "{kind:?} -> {other:?}: {out:?}");
        assert!(
            out.stdout.contains("create collection kinds (18 fields)"),
            "{}",
            out.stdout
        );
        assert!(out.stdout.contains("Applied 10 changes."), "{}", out.stdout);

        // Applying again changes nothing and says so.
        let again = run_cli(&target, &["schema", "apply", file.to_str().unwrap(), "-y"]);
        assert!(again.success, "{again:?}");
        assert!(
            again.stdout.starts_with("No changes"),
            "{kind:?} -> {other:?}: second apply planned:\n{}",
            again.stdout
        );
        let diff = run_cli(&target, &["schema", "diff", file.to_str().unwrap()]);
        assert!(diff.stdout.starts_with("No changes"), "{}", diff.stdout);

        let target_server = Server::start(&target).await;
        let actual = portable_api(&target_server).await;
        assert_same_model(&expected, &actual, &format!("{kind:?} -> {other:?}"));
    }
    std::fs::remove_dir_all(file.parent().unwrap()).ok();
}
on_every_db!(round_trip_to_every_other_database, round_trip);

async fn http_apply(kind: Kind) {
    let db = TestDb::create(kind).await;
    db.exec(&portable_model(kind)).await;
    let server = Server::start(&db).await;
    let snap = server.get("/schema/snapshot").await.assert_ok().clone();
    let mut wanted = snap.clone();
    wanted["collections"]
        .as_array_mut()
        .unwrap()
        .retain(|c| c["collection"] != "tags");
    // A relation into a removed collection goes with it.
    wanted["relations"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["related_collection"] != "tags");
    let fields = wanted["fields"].as_array_mut().unwrap();
    fields.retain(|f| f["collection"] != "tags");
    fields.push(
        json!({"collection": "owners", "field": "email", "type": "string",
                       "meta": {"note": "where to write"},
                       "schema": {"max_length": 80, "is_nullable": true}}),
    );
    // Field and relation edits, and a removed field.
    fields.retain(|f| !(f["collection"] == "kinds" && f["field"] == "body"));
    for f in fields.iter_mut() {
        if f["collection"] == "owners" && f["field"] == "name" {
            f["schema"]["max_length"] = json!(80);
            f["schema"]["default_value"] = json!("nobody");
        }
    }
    for r in wanted["relations"].as_array_mut().unwrap() {
        if r["field"] == "owner" {
            r["schema"]["on_delete"] = json!("CASCADE");
        }
    }
    let d = server.post("/schema/diff", wanted.clone()).await;
    let data = d.assert_ok().clone();
    let steps = |list: &str| data["diff"][list].as_array().unwrap().len();
    assert_eq!(
        (steps("collections"), steps("fields"), steps("relations")),
        (1, 3, 2),
        "{}",
        data["diff"]
    );
    let r = server.post("/schema/apply", data.clone()).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    server
        .get("/collections/tags")
        .await
        .assert_error(403, "FORBIDDEN");
    let email = server.get("/fields/owners/email").await;
    assert_eq!(email.assert_ok()["schema"]["max_length"], 80);
    assert_eq!(email.data()["meta"]["note"], "where to write");
    let name = server.get("/fields/owners/name").await;
    assert_eq!(name.assert_ok()["schema"]["max_length"], 80);
    assert_eq!(name.data()["schema"]["default_value"], "nobody");
    server
        .get("/fields/kinds/body")
        .await
        .assert_error(403, "FORBIDDEN");
    let owner = server.get("/relations/pets/owner").await;
    assert_eq!(owner.assert_ok()["schema"]["on_delete"], "CASCADE");
    // Done: nothing differs any more, and the old hash is stale.
    let d = server.post("/schema/diff", wanted).await;
    assert_eq!(d.status, 204, "{:?}", d.body);
    server
        .post("/schema/apply", data)
        .await
        .assert_error(400, "INVALID_PAYLOAD");
}
on_every_db!(http_apply_changes_the_schema, http_apply);

/// Metadata travels too: a collection's and a field's rows (written here as plain SQL,
/// as any tool could) are created on the target, and a second apply changes nothing.
async fn round_trip_with_metadata(kind: Kind) {
    let source = TestDb::create(kind).await;
    source.exec(&portable_model(kind)).await;
    let source_server = Server::start(&source).await;
    source
        .exec(
            "INSERT INTO rectus_collections (collection, icon, note, hidden, singleton, archive_app_filter, accountability, collapse, versioning) \
             VALUES ('owners', 'person', 'People with pets', false, false, true, 'all', 'open', false);\n\
             INSERT INTO rectus_fields (collection, field, interface, note, readonly, hidden, required, searchable, width) \
             VALUES ('owners', 'name', 'input', 'Full name', false, false, true, true, 'half')",
        )
        .await;
    let cleared = source_server.post("/utils/cache/clear", json!({})).await;
    assert_eq!(cleared.status, 200);
    let owners = source_server.get("/collections/owners").await;
    assert_eq!(owners.assert_ok()["meta"]["icon"], "person");
    let file = temp_file("meta.yaml");
    let out = run_cli(&source, &["schema", "snapshot", file.to_str().unwrap()]);
    assert!(out.success, "{out:?}");
    let expected = portable_api(&source_server).await;
    assert_eq!(
        expected["field owners.name"]["meta"],
        json!({"interface": "input", "note": "Full name", "required": true, "width": "half"})
    );
    for other in others(kind) {
        let target = TestDb::create(other).await;
        let out = run_cli(&target, &["schema", "apply", file.to_str().unwrap()]);
        assert!(out.success, "{kind:?} -> {other:?}: {out:?}");
        let again = run_cli(&target, &["schema", "apply", file.to_str().unwrap()]);
        assert!(
            again.stdout.starts_with("No changes"),
            "{kind:?} -> {other:?}: second apply planned:\n{}",
            again.stdout
        );
        let target_server = Server::start(&target).await;
        let actual = portable_api(&target_server).await;
        assert_same_model(&expected, &actual, &format!("{kind:?} -> {other:?}"));
    }
    std::fs::remove_dir_all(file.parent().unwrap()).ok();
}
on_every_db!(round_trip_keeps_metadata, round_trip_with_metadata);
