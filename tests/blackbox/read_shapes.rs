//! A plain list is written by the host from the statement's rows; a list with `meta`
//! counts comes back as the one JSON row the database built. Both must produce the same
//! values for every field type, on every database — this compares them, field by field.

use crate::harness::{Kind, Server, TestDb};
use crate::on_every_db;
use serde_json::{json, Value};

/// Numbers as f64: SQLite's JSON writes `40.0` where the host writes `40` (one number).
fn num(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.iter().map(num).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), num(v))).collect()),
        other => other.clone(),
    }
}

fn field(name: &str, ty: &str) -> Value {
    json!({"field": name, "type": ty, "schema": {}})
}

async fn both_read_shapes_agree(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    let mut fields = vec![
        json!({"field": "id", "type": "integer", "schema": {"is_primary_key": true, "has_auto_increment": true}}),
    ];
    for (name, ty) in [
        ("i", "integer"),
        ("big", "bigInteger"),
        ("f", "float"),
        ("dec", "decimal"),
        ("s", "string"),
        ("t", "text"),
        ("b", "boolean"),
        ("d", "date"),
        ("tm", "time"),
        ("dt", "dateTime"),
        ("ts", "timestamp"),
        ("j", "json"),
        ("u", "uuid"),
        ("c", "csv"),
        ("h", "hash"),
    ] {
        fields.push(field(name, ty));
    }
    server
        .post(
            "/collections",
            json!({"collection": "kinds", "fields": fields, "schema": {}}),
        )
        .await
        .assert_ok();
    server
        .post(
            "/items/kinds",
            json!([
                {
                    "i": -42, "big": "9007199254740993", "f": 10.25, "dec": "12.50",
                    "s": "quote \" backslash \\ tab \t ünïcødé ✓", "t": "line\nbreak",
                    "b": true, "d": "2026-11-23", "tm": "13:45:07", "dt": "2026-11-23T13:45:07",
                    "ts": "2026-11-23T13:45:07.123Z", "j": {"a": [1, 2.5, null, "x"], "b": {"c": true}},
                    "u": "8f14e45f-ceea-467f-a0e6-1b0f8f1e6d2a", "c": ["red", "green"], "h": "secret"
                },
                {"b": false, "f": 0.1, "j": [], "c": [], "s": ""},
                {}
            ]),
        )
        .await
        .assert_ok();

    for fields in ["*", "id,ts,b,j", "s,id"] {
        let rows = server.get(&format!("/items/kinds?fields={fields}")).await;
        let one_row = server
            .get(&format!("/items/kinds?fields={fields}&meta=total_count"))
            .await;
        let (rows, one_row) = (rows.assert_ok(), one_row.assert_ok());
        assert_eq!(rows.as_array().unwrap().len(), 3, "{kind:?}");
        for (a, b) in rows
            .as_array()
            .unwrap()
            .iter()
            .zip(one_row.as_array().unwrap())
        {
            let (a, b) = (a.as_object().unwrap(), b.as_object().unwrap());
            assert_eq!(
                a.keys().collect::<Vec<_>>(),
                b.keys().collect::<Vec<_>>(),
                "{kind:?}: key order for fields={fields}"
            );
            for (k, v) in a {
                assert_eq!(v, &b[k], "{kind:?}: field {k} (fields={fields})");
            }
        }
    }

    // Spot checks of the values themselves, in Directus's formats.
    let first = server.get("/items/kinds/1").await;
    let first = first.assert_ok();
    assert_eq!(first["i"], -42);
    assert_eq!(first["big"], "9007199254740993");
    assert_eq!(first["f"], 10.25);
    assert_eq!(first["s"], "quote \" backslash \\ tab \t ünïcødé ✓");
    assert_eq!(first["b"], true);
    assert_eq!(first["d"], "2026-11-23");
    assert_eq!(first["tm"], "13:45:07");
    assert_eq!(first["dt"], "2026-11-23T13:45:07");
    // MySQL's `timestamp` (as Directus creates it) keeps whole seconds.
    let ts = match kind {
        Kind::MySql => "2026-11-23T13:45:07.000Z",
        _ => "2026-11-23T13:45:07.123Z",
    };
    assert_eq!(first["ts"], ts);
    assert_eq!(
        first["j"],
        json!({"a": [1, 2.5, null, "x"], "b": {"c": true}})
    );
    assert_eq!(first["u"], "8f14e45f-ceea-467f-a0e6-1b0f8f1e6d2a");
    assert_eq!(first["c"], json!(["red", "green"]));
    assert_eq!(first["h"], "**********");
    let second = server.get("/items/kinds/2").await;
    let second = second.assert_ok();
    assert_eq!(second["b"], false);
    assert_eq!(second["f"], 0.1);
    assert_eq!(second["c"], json!([]));
    let third = server.get("/items/kinds/3").await;
    let third = third.assert_ok();
    assert!(
        third
            .as_object()
            .unwrap()
            .iter()
            .all(|(k, v)| k == "id" || v.is_null()),
        "{kind:?}: {third}"
    );
    // A key that is not there is still 403, in the rows shape too.
    server
        .get("/items/kinds/99")
        .await
        .assert_error(403, "FORBIDDEN");
    // No fields at all: empty objects (the rows shape selects a placeholder column).
    let empty = server.get("/items/kinds?fields=").await;
    assert_eq!(empty.assert_ok(), &json!([{}, {}, {}]), "{kind:?}");
}

on_every_db!(both_read_shapes_agree_on_every_db, both_read_shapes_agree);

/// Many-to-one relations are joined in the rows shape (and JSON subqueries in the other):
/// the same objects, `null` where there is no related row, nested two deep.
async fn joined_relations_match_subqueries(kind: Kind) {
    let db = TestDb::create(kind).await;
    let serial = kind.serial_pk();
    db.exec(&format!(
        "CREATE TABLE countries (id {serial}, name varchar(50));\n\
         CREATE TABLE customers (id {serial}, name varchar(50), country int references countries(id));\n\
         CREATE TABLE orders (id {serial}, customer int references customers(id), amount float)"
    ))
    .await;
    db.exec(
        "INSERT INTO countries (name) VALUES ('Portugal');\n\
         INSERT INTO customers (name, country) VALUES ('Ada', 1), ('Bob', NULL);\n\
         INSERT INTO orders (customer, amount) VALUES (1, 10), (2, 20), (NULL, 30), (1, 40)",
    )
    .await;
    let server = Server::start(&db).await;
    for fields in [
        "*,customer.*",
        "id,customer.name,customer.country.*",
        "customer.country.name,amount",
        "*.*.*",
    ] {
        let rows = server
            .get(&format!("/items/orders?fields={fields}&sort=-amount"))
            .await;
        let one_row = server
            .get(&format!(
                "/items/orders?fields={fields}&sort=-amount&meta=filter_count"
            ))
            .await;
        assert_eq!(
            num(rows.assert_ok()),
            num(one_row.assert_ok()),
            "{kind:?}: fields={fields}"
        );
    }
    let r = server
        .get("/items/orders?fields=id,customer.name,customer.country.name&sort=id")
        .await;
    assert_eq!(
        r.assert_ok(),
        &json!([
            {"id": 1, "customer": {"name": "Ada", "country": {"name": "Portugal"}}},
            {"id": 2, "customer": {"name": "Bob", "country": null}},
            {"id": 3, "customer": null},
            {"id": 4, "customer": {"name": "Ada", "country": {"name": "Portugal"}}}
        ]),
        "{kind:?}"
    );
    // A filter on the relation still picks the rows; the join only adds the values.
    let r = server
        .get("/items/orders?fields=id,customer.name&filter[customer][name][_eq]=Ada&sort=id")
        .await;
    assert_eq!(
        r.assert_ok(),
        &json!([{"id": 1, "customer": {"name": "Ada"}}, {"id": 4, "customer": {"name": "Ada"}}])
    );
}

on_every_db!(
    joined_relations_match_subqueries_on_every_db,
    joined_relations_match_subqueries
);
