//! Introspection of tables made with plain SQL in each database's own dialect, before
//! Rectus ever ran: `/collections`, `/fields` and `/relations` must describe them as
//! Directus would (types, nullability, defaults, sizes, keys, foreign keys) with
//! `meta: null`, and a table made while the server runs appears after
//! `POST /utils/cache/clear`.

use crate::harness::{Kind, Server, TestDb};
use crate::on_every_db;
use serde_json::{json, Value};

/// The same model in each dialect: every common column type, defaults, NOT NULL and
/// UNIQUE, a string and a uuid primary key, a composite key, no key, and foreign keys
/// with SET NULL / CASCADE, to itself and to a string key.
pub fn model_sql(kind: Kind) -> &'static str {
    match kind {
        Kind::Postgres => {
            r#"
CREATE TABLE kinds (
  id serial PRIMARY KEY,
  name varchar(120) NOT NULL DEFAULT 'anon',
  body text,
  qty integer DEFAULT 3,
  big bigint,
  small smallint,
  ratio real,
  score double precision,
  price numeric(10,2) DEFAULT 9.99,
  active boolean NOT NULL DEFAULT true,
  born date,
  alarm time,
  seen timestamp,
  created timestamptz DEFAULT CURRENT_TIMESTAMP,
  doc json,
  docb jsonb,
  token uuid UNIQUE,
  code varchar(20) UNIQUE
);
CREATE TABLE tags (code varchar(32) PRIMARY KEY, label text NOT NULL);
CREATE TABLE devices (id uuid PRIMARY KEY, label varchar(50));
CREATE TABLE links (a integer NOT NULL, b integer NOT NULL, note text, PRIMARY KEY (a, b));
CREATE TABLE logs (msg text, at integer);
CREATE TABLE owners (id serial PRIMARY KEY, name varchar(50));
CREATE TABLE pets (
  id serial PRIMARY KEY,
  owner integer REFERENCES owners (id) ON DELETE SET NULL,
  home integer NOT NULL REFERENCES owners (id) ON DELETE CASCADE
);
CREATE TABLE nodes (
  id serial PRIMARY KEY,
  parent integer REFERENCES nodes (id) ON DELETE SET NULL,
  tag varchar(32) REFERENCES tags (code) ON DELETE CASCADE ON UPDATE CASCADE
)"#
        }
        Kind::MySql => {
            r#"
CREATE TABLE kinds (
  id int AUTO_INCREMENT PRIMARY KEY,
  name varchar(120) NOT NULL DEFAULT 'anon',
  body text,
  qty int DEFAULT 3,
  big bigint,
  small smallint,
  ratio float,
  score double,
  price decimal(10,2) DEFAULT 9.99,
  active tinyint(1) NOT NULL DEFAULT 1,
  born date,
  alarm time,
  seen datetime,
  created timestamp NULL DEFAULT CURRENT_TIMESTAMP,
  doc json,
  docb json,
  token char(36) UNIQUE,
  code varchar(20) UNIQUE
);
CREATE TABLE tags (code varchar(32) PRIMARY KEY, label text NOT NULL);
CREATE TABLE devices (id char(36) PRIMARY KEY, label varchar(50));
CREATE TABLE links (a int NOT NULL, b int NOT NULL, note text, PRIMARY KEY (a, b));
CREATE TABLE logs (msg text, at int);
CREATE TABLE owners (id int AUTO_INCREMENT PRIMARY KEY, name varchar(50));
CREATE TABLE pets (
  id int AUTO_INCREMENT PRIMARY KEY,
  owner int,
  home int NOT NULL,
  FOREIGN KEY (owner) REFERENCES owners (id) ON DELETE SET NULL,
  FOREIGN KEY (home) REFERENCES owners (id) ON DELETE CASCADE
);
CREATE TABLE nodes (
  id int AUTO_INCREMENT PRIMARY KEY,
  parent int,
  tag varchar(32),
  FOREIGN KEY (parent) REFERENCES nodes (id) ON DELETE SET NULL,
  FOREIGN KEY (tag) REFERENCES tags (code) ON DELETE CASCADE ON UPDATE CASCADE
)"#
        }
        Kind::Sqlite => {
            r#"
CREATE TABLE kinds (
  id integer PRIMARY KEY,
  name varchar(120) NOT NULL DEFAULT 'anon',
  body text,
  qty integer DEFAULT 3,
  big bigint,
  small smallint,
  ratio real,
  score double,
  price numeric(10,2) DEFAULT 9.99,
  active boolean NOT NULL DEFAULT 1,
  born date,
  alarm time,
  seen datetime,
  created timestamp DEFAULT CURRENT_TIMESTAMP,
  doc json,
  docb json,
  token uuid UNIQUE,
  code varchar(20) UNIQUE
);
CREATE TABLE tags (code varchar(32) PRIMARY KEY, label text NOT NULL);
CREATE TABLE devices (id uuid PRIMARY KEY, label varchar(50));
CREATE TABLE links (a integer NOT NULL, b integer NOT NULL, note text, PRIMARY KEY (a, b));
CREATE TABLE logs (msg text, at integer);
CREATE TABLE owners (id integer PRIMARY KEY, name varchar(50));
CREATE TABLE pets (
  id integer PRIMARY KEY,
  owner integer REFERENCES owners (id) ON DELETE SET NULL,
  home integer NOT NULL REFERENCES owners (id) ON DELETE CASCADE
);
CREATE TABLE nodes (
  id integer PRIMARY KEY,
  parent integer REFERENCES nodes (id) ON DELETE SET NULL,
  tag varchar(32) REFERENCES tags (code) ON DELETE CASCADE ON UPDATE CASCADE
)"#
        }
    }
}

/// Asserts that `actual` has every key of `expected` with an equal value; numbers compare
/// as numbers (`9.99` however the database spells it). Top-level `type` and `meta` are
/// checked on the field, the rest under `schema`.
#[track_caller]
fn assert_field(actual: &Value, expected: Value) {
    let what = format!("{}.{}", actual["collection"], actual["field"]);
    for (k, want) in expected.as_object().unwrap() {
        let got = match k.as_str() {
            "type" | "meta" => &actual[k],
            _ => &actual["schema"][k],
        };
        let same = match (got, want) {
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            _ => got == want,
        };
        assert!(
            same,
            "{what}: {k} is {got}, expected {want}; field: {actual}"
        );
    }
}

async fn reports_raw_tables_like_directus(kind: Kind) {
    let db = TestDb::create(kind).await;
    db.exec(model_sql(kind)).await;
    let server = Server::start(&db).await;

    let collections = server.get("/collections").await;
    let names: Vec<&str> = collections
        .assert_ok()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["collection"].as_str().unwrap())
        .collect();
    for name in [
        "devices", "kinds", "links", "logs", "owners", "pets", "tags",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    assert!(
        !names.iter().any(|n| n.starts_with("rectus_")),
        "system tables are not user collections: {names:?}"
    );
    let kinds = server.get("/collections/kinds").await;
    assert_eq!(kinds.assert_ok()["meta"], Value::Null);
    assert_eq!(kinds.data()["schema"]["name"], "kinds");

    let fields = server.get("/fields/kinds").await;
    let fields = fields.assert_ok().as_array().unwrap().clone();
    let field = |name: &str| -> Value {
        fields
            .iter()
            .find(|f| f["field"] == name)
            .unwrap_or_else(|| panic!("kinds.{name} missing"))
            .clone()
    };
    assert_eq!(fields.len(), 18, "{fields:?}");
    assert!(fields.iter().all(|f| f["meta"].is_null()));
    assert_field(
        &field("id"),
        json!({"type": "integer", "is_primary_key": true, "has_auto_increment": true,
               "is_nullable": false, "is_unique": true, "default_value": null}),
    );
    assert_field(
        &field("name"),
        json!({"type": "string", "max_length": 120, "is_nullable": false,
               "default_value": "anon", "is_unique": false, "is_primary_key": false,
               "has_auto_increment": false}),
    );
    assert_field(
        &field("body"),
        json!({"type": "text", "is_nullable": true, "default_value": null}),
    );
    assert_field(
        &field("qty"),
        json!({"type": "integer", "default_value": 3, "is_nullable": true}),
    );
    assert_field(&field("big"), json!({"type": "bigInteger"}));
    assert_field(&field("small"), json!({"type": "integer"}));
    assert_field(&field("ratio"), json!({"type": "float"}));
    assert_field(&field("score"), json!({"type": "float"}));
    assert_field(
        &field("price"),
        json!({"type": "decimal", "numeric_precision": 10, "numeric_scale": 2,
               "default_value": 9.99}),
    );
    assert_field(
        &field("active"),
        json!({"type": "boolean", "is_nullable": false, "default_value": true}),
    );
    assert_field(&field("born"), json!({"type": "date"}));
    assert_field(&field("alarm"), json!({"type": "time"}));
    assert_field(&field("seen"), json!({"type": "dateTime"}));
    assert_field(
        &field("created"),
        json!({"type": "timestamp", "default_value": "CURRENT_TIMESTAMP"}),
    );
    assert_field(&field("doc"), json!({"type": "json"}));
    assert_field(&field("docb"), json!({"type": "json"}));
    assert_field(
        &field("token"),
        json!({"type": "uuid", "is_unique": true, "is_nullable": true}),
    );
    assert_field(
        &field("code"),
        json!({"type": "string", "max_length": 20, "is_unique": true}),
    );

    // One field read on its own gives the same object.
    let one = server.get("/fields/kinds/price").await;
    assert_eq!(one.assert_ok(), &field("price"));
    server
        .get("/fields/kinds/nope")
        .await
        .assert_error(403, "FORBIDDEN");

    // Non-integer and composite keys, and no key at all.
    let tag = server.get("/fields/tags/code").await;
    assert_field(
        tag.assert_ok(),
        json!({"type": "string", "max_length": 32, "is_primary_key": true,
               "has_auto_increment": false, "is_nullable": false, "is_unique": true}),
    );
    let label = server.get("/fields/tags/label").await;
    assert_field(
        label.assert_ok(),
        json!({"type": "text", "is_nullable": false}),
    );
    let device = server.get("/fields/devices/id").await;
    assert_field(
        device.assert_ok(),
        json!({"type": "uuid", "is_primary_key": true, "has_auto_increment": false,
               "is_nullable": false}),
    );
    for f in ["a", "b"] {
        let r = server.get(&format!("/fields/links/{f}")).await;
        assert_field(
            r.assert_ok(),
            json!({"type": "integer", "is_primary_key": true, "has_auto_increment": false,
                   "is_unique": false, "is_nullable": false}),
        );
    }
    let logs = server.get("/fields/logs").await;
    let logs = logs.assert_ok().as_array().unwrap();
    assert_eq!(logs.len(), 2);
    assert!(logs.iter().all(|f| f["schema"]["is_primary_key"] == false));

    // Foreign keys: on the fields, and as relations.
    let owner = server.get("/fields/pets/owner").await;
    assert_field(
        owner.assert_ok(),
        json!({"type": "integer", "is_nullable": true, "foreign_key_table": "owners",
               "foreign_key_column": "id"}),
    );
    let home = server.get("/fields/pets/home").await;
    assert_field(
        home.assert_ok(),
        json!({"is_nullable": false, "foreign_key_table": "owners", "foreign_key_column": "id"}),
    );
    let kinds_id = field("id");
    assert_eq!(kinds_id["schema"]["foreign_key_table"], Value::Null);

    let relations = server.get("/relations").await;
    let relations = relations.assert_ok().as_array().unwrap().clone();
    assert_eq!(relations.len(), 4, "{relations:?}");
    for (field, on_delete) in [("home", "CASCADE"), ("owner", "SET NULL")] {
        let r = relations
            .iter()
            .find(|r| r["collection"] == "pets" && r["field"] == field)
            .unwrap_or_else(|| panic!("relation pets.{field} missing: {relations:?}"));
        assert_eq!(r["collection"], "pets");
        assert_eq!(r["related_collection"], "owners");
        assert_eq!(r["meta"], Value::Null);
        assert_eq!(r["schema"]["table"], "pets");
        assert_eq!(r["schema"]["column"], field);
        assert_eq!(r["schema"]["foreign_key_table"], "owners");
        assert_eq!(r["schema"]["foreign_key_column"], "id");
        assert_eq!(r["schema"]["on_delete"], on_delete);
        assert!(r["schema"]["constraint_name"].is_string());
    }
    // To itself, and to a string key with an update rule.
    let parent = server.get("/relations/nodes/parent").await;
    assert_eq!(parent.assert_ok()["related_collection"], "nodes");
    assert_eq!(parent.data()["schema"]["on_delete"], "SET NULL");
    let tag = server.get("/relations/nodes/tag").await;
    assert_eq!(tag.assert_ok()["related_collection"], "tags");
    assert_eq!(tag.data()["schema"]["foreign_key_column"], "code");
    assert_eq!(tag.data()["schema"]["on_delete"], "CASCADE");
    assert_eq!(tag.data()["schema"]["on_update"], "CASCADE");
    let tag_field = server.get("/fields/nodes/tag").await;
    assert_field(
        tag_field.assert_ok(),
        json!({"type": "string", "max_length": 32, "foreign_key_table": "tags",
               "foreign_key_column": "code"}),
    );
    let one = server.get("/relations/pets/owner").await;
    assert_eq!(one.assert_ok()["schema"]["on_delete"], "SET NULL");
    let of_pets = server.get("/relations/pets").await;
    assert_eq!(of_pets.assert_ok().as_array().unwrap().len(), 2);
}
on_every_db!(
    raw_tables_are_reported_like_directus,
    reports_raw_tables_like_directus
);

async fn tables_made_while_running_appear_after_a_cache_clear(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    db.exec("CREATE TABLE late (id integer PRIMARY KEY, title varchar(10))")
        .await;
    // The schema is read at start and after changes made through Rectus, not per request.
    server
        .get("/collections/late")
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .anonymous()
        .post("/utils/cache/clear", json!({}))
        .await
        .assert_error(403, "FORBIDDEN");
    let cleared = server.post("/utils/cache/clear", json!({})).await;
    assert_eq!(cleared.status, 200, "{:?}", cleared.body);
    let late = server.get("/collections/late").await;
    assert_eq!(late.assert_ok()["collection"], "late");
    assert_eq!(late.data()["meta"], Value::Null);
    let title = server.get("/fields/late/title").await;
    assert_field(
        title.assert_ok(),
        json!({"type": "string", "max_length": 10, "meta": null}),
    );
}
on_every_db!(
    tables_made_while_running_appear_after_cache_clear,
    tables_made_while_running_appear_after_a_cache_clear
);

/// Keys, indexes and defaults that only look like what they are not: a SQLite `WITHOUT ROWID` table's
/// integer key does not number itself, a partial unique index does not make a column
/// unique, a unique index with `INCLUDE` columns does.
fn edge_sql(kind: Kind) -> &'static str {
    match kind {
        Kind::Sqlite => {
            r#"
CREATE TABLE wr (id integer PRIMARY KEY, v text, bs varchar(10) DEFAULT 'a\b') WITHOUT ROWID;
CREATE TABLE pu (id integer PRIMARY KEY, code varchar(10), deleted boolean DEFAULT 'false');
CREATE UNIQUE INDEX pu_code ON pu (code) WHERE deleted = 0;
CREATE TABLE inc (id integer PRIMARY KEY, code varchar(10) UNIQUE, extra text)"#
        }
        Kind::Postgres => {
            r#"
CREATE TABLE wr (id integer PRIMARY KEY, v text, bs varchar(10) DEFAULT 'a\b');
CREATE TABLE pu (id serial PRIMARY KEY, code varchar(10), deleted boolean DEFAULT false);
CREATE UNIQUE INDEX pu_code ON pu (code) WHERE NOT deleted;
CREATE TABLE inc (id serial PRIMARY KEY, code varchar(10), extra text);
CREATE UNIQUE INDEX inc_code ON inc (code) INCLUDE (extra)"#
        }
        Kind::MySql => {
            r#"
CREATE TABLE wr (id int PRIMARY KEY, v text, bs varchar(10) DEFAULT 'a\\b');
CREATE TABLE pu (id int AUTO_INCREMENT PRIMARY KEY, code varchar(10), deleted tinyint(1) DEFAULT 0);
CREATE INDEX pu_code ON pu (code);
CREATE TABLE inc (id int AUTO_INCREMENT PRIMARY KEY, code varchar(10) UNIQUE, extra text)"#
        }
    }
}

async fn keys_and_indexes_are_read_exactly(kind: Kind) {
    let db = TestDb::create(kind).await;
    db.exec(edge_sql(kind)).await;
    let server = Server::start(&db).await;
    let wr = server.get("/fields/wr/id").await;
    assert_field(
        wr.assert_ok(),
        json!({"type": "integer", "is_primary_key": true, "has_auto_increment": false}),
    );
    // A backslash in a string default is one backslash (MariaDB reports it escaped).
    let bs = server.get("/fields/wr/bs").await;
    assert_field(bs.assert_ok(), json!({"default_value": "a\\b"}));
    let deleted = server.get("/fields/pu/deleted").await;
    assert_field(
        deleted.assert_ok(),
        json!({"type": "boolean", "default_value": false}),
    );
    let pu = server.get("/fields/pu/code").await;
    assert_field(
        pu.assert_ok(),
        json!({"is_unique": false, "is_indexed": true}),
    );
    let inc = server.get("/fields/inc/code").await;
    assert_field(
        inc.assert_ok(),
        json!({"is_unique": true, "is_indexed": true}),
    );
    let extra = server.get("/fields/inc/extra").await;
    assert_field(
        extra.assert_ok(),
        json!({"is_unique": false, "is_indexed": false}),
    );
}
on_every_db!(
    keys_and_indexes_are_read_exactly_everywhere,
    keys_and_indexes_are_read_exactly
);
