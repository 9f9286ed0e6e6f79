//! `/fields`: adding, altering and dropping columns, checked with raw SQL; refused type
//! changes leave the data as it was.

use crate::collections::create_orders;
use crate::harness::{Kind, Server, TestDb};
use crate::on_every_db;
use serde_json::{json, Value};

async fn seeded(kind: Kind) -> (TestDb, Server) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    create_orders(&server).await;
    db.exec(
        "INSERT INTO orders (customer_name, email, item, amount) VALUES ('Ann', 'ann@example.com', 'Laptop', 999.5);\n\
         INSERT INTO orders (customer_name, email, item, amount) VALUES ('Bob', 'bob@example.com', 'Phone', NULL)",
    )
    .await;
    (db, server)
}

async fn add_fields(kind: Kind) {
    let (db, server) = seeded(kind).await;
    let r = server
        .post("/fields/orders", json!({"field": "note", "type": "text"}))
        .await;
    let data = r.assert_ok();
    assert_eq!(data["type"], "text");
    assert_eq!(data["meta"], Value::Null, "no meta given, no row");
    // NOT NULL with a default on a table with rows: the rows get the default.
    let r = server
        .post(
            "/fields/orders",
            json!({"field": "qty", "type": "integer", "schema": {"default_value": 1, "is_nullable": false},
                   "meta": {"interface": "input", "width": "half"}}),
        )
        .await;
    let data = r.assert_ok();
    assert_eq!(data["schema"]["is_nullable"], false);
    assert_eq!(data["schema"]["default_value"], 1);
    assert_eq!(data["meta"]["width"], "half");
    let qty = db.query("SELECT qty FROM orders ORDER BY id").await;
    assert_eq!(qty[0]["qty"], 1);
    assert_eq!(qty[1]["qty"], 1);
    // Unique, with a length.
    let r = server
        .post(
            "/fields/orders",
            json!({"field": "code", "type": "string", "schema": {"max_length": 20, "is_unique": true}}),
        )
        .await;
    let data = r.assert_ok();
    assert_eq!(data["schema"]["max_length"], 20);
    assert_eq!(data["schema"]["is_unique"], true);
    db.exec("UPDATE orders SET code = 'A1' WHERE id = 1").await;
    assert!(db
        .try_exec("UPDATE orders SET code = 'A1' WHERE id = 2")
        .await
        .is_err());
    // Decimal with precision; csv records its special.
    let r = server
        .post(
            "/fields/orders",
            json!({"field": "price", "type": "decimal", "schema": {"numeric_precision": 12, "numeric_scale": 2}}),
        )
        .await;
    let data = r.assert_ok();
    assert_eq!(data["type"], "decimal");
    assert_eq!(data["schema"]["numeric_precision"], 12);
    assert_eq!(data["schema"]["numeric_scale"], 2);
    let r = server
        .post("/fields/orders", json!({"field": "labels", "type": "csv"}))
        .await;
    assert_eq!(r.assert_ok()["type"], "csv");
    // Timestamps with a clock default.
    let r = server
        .post(
            "/fields/orders",
            json!({"field": "shipped_at", "type": "timestamp", "schema": {"default_value": "CURRENT_TIMESTAMP"}}),
        )
        .await;
    assert_eq!(
        r.assert_ok()["schema"]["default_value"],
        "CURRENT_TIMESTAMP"
    );
    // An alias field has no column.
    let r = server
        .post(
            "/fields/orders",
            json!({"field": "divider", "type": "alias", "meta": {"special": ["alias", "no-data"], "interface": "presentation-divider"}}),
        )
        .await;
    let data = r.assert_ok();
    assert_eq!(data["type"], "alias");
    assert_eq!(data["schema"], Value::Null);
    let cols = db.column_names("orders").await;
    for c in ["note", "qty", "code", "price", "labels", "shipped_at"] {
        assert!(cols.iter().any(|x| x == c), "{c} in {cols:?}");
    }
    assert!(!cols.iter().any(|x| x == "divider"));
    // Still a working table for plain SQL.
    db.exec(
        "INSERT INTO orders (customer_name, email, price) VALUES ('Cy', 'cy@example.com', 12.5)",
    )
    .await;
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM orders WHERE qty = 1")
            .await,
        3
    );
}
on_every_db!(add_fields_changes_the_table, add_fields);

async fn update_fields(kind: Kind) {
    let (db, server) = seeded(kind).await;
    server
        .post(
            "/fields/orders",
            json!({"field": "qty", "type": "integer", "meta": {"interface": "input", "note": "How many"}}),
        )
        .await
        .assert_ok();
    server
        .post(
            "/fields/orders",
            json!({"field": "code", "type": "string", "schema": {"max_length": 10}}),
        )
        .await
        .assert_ok();
    db.exec("UPDATE orders SET qty = 2, code = 'abcdefghij' WHERE id = 1")
        .await;

    // Widening: integer → bigInteger, a longer varchar, string → text.
    let r = server
        .patch("/fields/orders/qty", json!({"type": "bigInteger"}))
        .await;
    assert_eq!(r.assert_ok()["type"], "bigInteger");
    assert_eq!(r.assert_ok()["meta"]["note"], "How many", "meta stays");
    let r = server
        .patch(
            "/fields/orders/code",
            json!({"schema": {"max_length": 100}}),
        )
        .await;
    assert_eq!(r.assert_ok()["schema"]["max_length"], 100);
    let r = server
        .patch("/fields/orders/email", json!({"type": "text"}))
        .await;
    assert_eq!(r.assert_ok()["type"], "text");
    assert_eq!(
        r.assert_ok()["schema"]["is_nullable"],
        false,
        "NOT NULL kept"
    );
    let r = server
        .patch("/fields/orders/amount", json!({"type": "decimal"}))
        .await;
    assert_eq!(r.assert_ok()["type"], "decimal");
    let rows = db
        .query("SELECT qty, code, email FROM orders WHERE id = 1")
        .await;
    assert_eq!(rows[0]["qty"], 2);
    assert_eq!(rows[0]["code"], "abcdefghij");
    assert_eq!(rows[0]["email"], "ann@example.com");

    // Default, then meta merge: given keys replace, the others stay.
    let r = server
        .patch(
            "/fields/orders/status",
            json!({"schema": {"default_value": "Paid"}, "meta": {"note": "Order state"}}),
        )
        .await;
    let data = r.assert_ok();
    assert_eq!(data["schema"]["default_value"], "Paid");
    assert_eq!(data["meta"]["note"], "Order state");
    assert_eq!(data["meta"]["interface"], "select-dropdown");
    db.exec("INSERT INTO orders (customer_name, email) VALUES ('Di', 'di@example.com')")
        .await;
    let rows = db
        .query("SELECT status FROM orders WHERE customer_name = 'Di'")
        .await;
    assert_eq!(rows[0]["status"], "Paid");

    // NOT NULL on a column with nulls is refused; once filled it works.
    server
        .patch(
            "/fields/orders/qty",
            json!({"schema": {"is_nullable": false}}),
        )
        .await
        .assert_error(400, "CONTAINS_NULL_VALUES");
    assert!(db
        .try_exec("INSERT INTO orders (customer_name, email) VALUES ('Ed', 'ed@example.com')")
        .await
        .is_ok());
    db.exec("UPDATE orders SET qty = 0 WHERE qty IS NULL").await;
    let r = server
        .patch(
            "/fields/orders/qty",
            json!({"schema": {"is_nullable": false}}),
        )
        .await;
    assert_eq!(r.assert_ok()["schema"]["is_nullable"], false);
    assert!(db
        .try_exec("INSERT INTO orders (customer_name, email) VALUES ('Fy', 'fy@example.com')")
        .await
        .is_err());
    // And back.
    server
        .patch(
            "/fields/orders/qty",
            json!({"schema": {"is_nullable": true}}),
        )
        .await
        .assert_ok();
    db.exec("INSERT INTO orders (customer_name, email) VALUES ('Gu', 'gu@example.com')")
        .await;

    // Unique on and off.
    db.exec("UPDATE orders SET code = 'dup'").await;
    server
        .patch(
            "/fields/orders/code",
            json!({"schema": {"is_unique": true}}),
        )
        .await
        .assert_error(400, "RECORD_NOT_UNIQUE");
    // Two DDL steps where the second fails: the first (a longer varchar) is undone too.
    server
        .patch(
            "/fields/orders/code",
            json!({"schema": {"max_length": 150, "is_unique": true}}),
        )
        .await
        .assert_error(400, "RECORD_NOT_UNIQUE");
    let code = server.get("/fields/orders/code").await;
    assert_eq!(code.assert_ok()["schema"]["max_length"], 100);
    assert_eq!(code.assert_ok()["schema"]["is_unique"], false);
    db.exec("UPDATE orders SET code = id").await;
    let r = server
        .patch(
            "/fields/orders/code",
            json!({"schema": {"is_unique": true}}),
        )
        .await;
    assert_eq!(r.assert_ok()["schema"]["is_unique"], true);
    assert!(db
        .try_exec("UPDATE orders SET code = 'same'")
        .await
        .is_err());
    let r = server
        .patch(
            "/fields/orders/code",
            json!({"schema": {"is_unique": false}}),
        )
        .await;
    assert_eq!(r.assert_ok()["schema"]["is_unique"], false);
    db.exec("UPDATE orders SET code = 'same'").await;

    // A json column stays json when its column is restated (MariaDB keeps JSON as text
    // with a check).
    server
        .post("/fields/orders", json!({"field": "extra", "type": "json"}))
        .await
        .assert_ok();
    db.exec("UPDATE orders SET extra = '{\"a\": 1}'").await;
    let r = server
        .patch(
            "/fields/orders/extra",
            json!({"schema": {"is_nullable": false}}),
        )
        .await;
    assert_eq!(r.assert_ok()["type"], "json");
    assert_eq!(r.assert_ok()["schema"]["is_nullable"], false);

    // The batch form.
    let r = server
        .patch(
            "/fields/orders",
            json!([
                {"field": "item", "meta": {"width": "half"}},
                {"field": "amount", "meta": {"note": "EUR"}}
            ]),
        )
        .await;
    let data = r.assert_ok();
    assert_eq!(data[0]["meta"]["width"], "half");
    assert_eq!(data[1]["meta"]["note"], "EUR");
    // Metadata keys can be cleared again (null into an integer metadata column).
    let r = server
        .patch("/fields/orders/item", json!({"meta": {"sort": 5}}))
        .await;
    assert_eq!(r.assert_ok()["meta"]["sort"], 5);
    let r = server
        .patch("/fields/orders/item", json!({"meta": {"sort": null}}))
        .await;
    assert_eq!(r.assert_ok()["meta"]["sort"], Value::Null);
    // A field created outside the API (no meta row) gets one on its first meta patch.
    db.exec("ALTER TABLE orders ADD COLUMN legacy_flag integer")
        .await;
    let r = server
        .patch(
            "/fields/orders/legacy_flag",
            json!({"meta": {"hidden": true}}),
        )
        .await;
    assert_eq!(r.assert_ok()["meta"]["hidden"], true);
}
on_every_db!(update_fields_alters_columns, update_fields);

async fn lossy_changes_are_refused(kind: Kind) {
    let (db, server) = seeded(kind).await;
    for f in [
        json!({"field": "long_text", "type": "text"}),
        json!({"field": "words", "type": "string"}),
        json!({"field": "digits", "type": "string"}),
        json!({"field": "big", "type": "bigInteger"}),
        json!({"field": "ratio", "type": "float"}),
    ] {
        server.post("/fields/orders", f).await.assert_ok();
    }
    db.exec(
        "UPDATE orders SET long_text = 'a text that is longer than ten', words = 'abc', digits = '42', big = 3000000000, ratio = 1.5 WHERE id = 1;\n\
         UPDATE orders SET digits = '-7', big = 5, ratio = 2 WHERE id = 2",
    )
    .await;

    let refused = [
        (
            "long_text",
            json!({"type": "string", "schema": {"max_length": 10}}),
        ),
        ("words", json!({"type": "integer"})),
        ("words", json!({"type": "float"})),
        ("words", json!({"type": "boolean"})),
        ("ratio", json!({"type": "integer"})),
        ("big", json!({"type": "integer"})),
        ("email", json!({"schema": {"max_length": 3}})),
    ];
    for (field, body) in refused {
        let r = server
            .patch(&format!("/fields/orders/{field}"), body.clone())
            .await;
        r.assert_error(400, "INVALID_PAYLOAD");
        assert!(
            r.message().contains("Cannot change"),
            "{field} {body}: {}",
            r.body
        );
    }
    // Types and values are as before.
    let fields = server.get("/fields/orders").await;
    let ty = |name: &str| {
        fields.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == name)
            .unwrap()["type"]
            .clone()
    };
    assert_eq!(ty("long_text"), "text");
    assert_eq!(ty("words"), "string");
    assert_eq!(ty("ratio"), "float");
    assert_eq!(ty("big"), "bigInteger");
    let row = &db
        .query("SELECT long_text, words, big, ratio, email FROM orders WHERE id = 1")
        .await[0];
    assert_eq!(row["long_text"], "a text that is longer than ten");
    assert_eq!(row["words"], "abc");
    assert_eq!(row["big"], 3000000000i64);
    assert_eq!(row["ratio"].as_f64(), Some(1.5));
    assert_eq!(row["email"], "ann@example.com");

    // Narrowing that keeps every value is allowed.
    let r = server
        .patch("/fields/orders/digits", json!({"type": "integer"}))
        .await;
    assert_eq!(r.assert_ok()["type"], "integer");
    let rows = db.query("SELECT digits FROM orders ORDER BY id").await;
    assert_eq!(rows[0]["digits"], 42);
    assert_eq!(rows[1]["digits"], -7);
    db.exec("UPDATE orders SET big = 5 WHERE id = 1").await;
    let r = server
        .patch("/fields/orders/big", json!({"type": "integer"}))
        .await;
    assert_eq!(r.assert_ok()["type"], "integer");
}
on_every_db!(lossy_type_changes_are_refused, lossy_changes_are_refused);

async fn delete_fields(kind: Kind) {
    let (db, server) = seeded(kind).await;
    server
        .post(
            "/fields/orders",
            json!({"field": "note", "type": "text", "meta": {"interface": "input-multiline"}}),
        )
        .await
        .assert_ok();
    server
        .post(
            "/fields/orders",
            json!({"field": "code", "type": "string", "schema": {"is_unique": true}}),
        )
        .await
        .assert_ok();
    server
        .post(
            "/fields/orders",
            json!({"field": "rank", "type": "integer"}),
        )
        .await
        .assert_ok();
    server
        .patch(
            "/collections/orders",
            json!({"meta": {"sort_field": "rank"}}),
        )
        .await
        .assert_ok();
    assert_eq!(server.delete("/fields/orders/rank").await.status, 204);
    let orders = server.get("/collections/orders").await;
    assert_eq!(orders.assert_ok()["meta"]["sort_field"], Value::Null);
    assert_eq!(orders.assert_ok()["meta"]["icon"], "shopping_cart");
    let r = server.delete("/fields/orders/note").await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = server.delete("/fields/orders/code").await;
    assert_eq!(r.status, 204, "{}", r.body);
    let cols = db.column_names("orders").await;
    assert!(!cols.iter().any(|c| c == "note" || c == "code"), "{cols:?}");
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM rectus_fields WHERE collection = 'orders' AND field = 'note'")
            .await,
        0
    );
    server
        .get("/fields/orders/note")
        .await
        .assert_error(403, "FORBIDDEN");
    // Rows survive (SQLite rebuilt the table for the unique column).
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM orders").await, 2);
    server
        .delete("/fields/orders/id")
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .delete("/fields/orders/nope")
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .delete("/fields/nope/id")
        .await
        .assert_error(403, "FORBIDDEN");
    assert!(db.column_names("orders").await.contains(&"id".to_string()));
}
on_every_db!(delete_fields_drops_columns, delete_fields);

async fn bad_field_input(kind: Kind) {
    let (db, server) = seeded(kind).await;
    let before = db.column_names("orders").await;
    let bad = [
        json!({"field": "bad name", "type": "string"}),
        json!({"field": "select", "type": "string"}),
        json!({"field": "x\"; DROP TABLE orders; --", "type": "string"}),
        json!({"field": "ok_name", "type": "nope"}),
        json!({"field": "ok_name"}),
        json!({"type": "string"}),
        json!({"field": "amount", "type": "string"}),
        json!({"field": "AMOUNT", "type": "string"}),
        json!({"field": "ok_name", "type": "string", "meta": {"hidden": "yes"}}),
        json!({"field": "ok_name", "type": "integer", "schema": {"default_value": "abc"}}),
        json!({"field": "ok_name", "type": "string", "schema": {"default_value": true}}),
        json!({"field": "ok_name", "type": "integer", "schema": {"is_primary_key": true}}),
        // Required without a default, on a table that has rows.
        json!({"field": "ok_name", "type": "string", "schema": {"is_nullable": false}}),
        json!([1, 2]),
    ];
    for body in bad {
        server
            .post("/fields/orders", body.clone())
            .await
            .assert_error(400, "INVALID_PAYLOAD");
    }
    assert_eq!(db.column_names("orders").await, before);
    server
        .post("/fields/nope", json!({"field": "x", "type": "string"}))
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .patch("/fields/orders/nope", json!({"meta": {"note": "x"}}))
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .patch("/fields/nope/id", json!({"meta": {"note": "x"}}))
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .patch("/fields/orders/amount", json!({"type": "nope"}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .patch("/fields/orders/amount", json!({"meta": {"sort": "first"}}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .patch("/fields/orders/id", json!({"type": "bigInteger"}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .admin()
        .send_raw(
            "PATCH",
            "/fields/orders/amount",
            "application/json",
            "{nope",
        )
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    // A table without rows takes a required field without default.
    server
        .post(
            "/collections",
            json!({"collection": "empty_one", "schema": {}}),
        )
        .await
        .assert_ok();
    let r = server
        .post(
            "/fields/empty_one",
            json!({"field": "name", "type": "string", "schema": {"is_nullable": false}}),
        )
        .await;
    assert_eq!(r.assert_ok()["schema"]["is_nullable"], false);

    // Failing halfway: the DDL ran, then the metadata row is refused by the database
    // (a NOT NULL metadata column given null). The column must not remain.
    server
        .post(
            "/fields/orders",
            json!({"field": "half", "type": "string", "meta": {"hidden": null}}),
        )
        .await
        .assert_error(400, "NOT_NULL_VIOLATION");
    // The same through SQLite's rebuild (a required field is added by rebuilding).
    server
        .post(
            "/fields/empty_one",
            json!({"field": "half", "type": "string", "schema": {"is_nullable": false}, "meta": {"readonly": null}}),
        )
        .await
        .assert_error(400, "NOT_NULL_VIOLATION");
    // And a type change whose metadata update fails: the column keeps its type.
    server
        .patch(
            "/fields/orders/amount",
            json!({"type": "decimal", "meta": {"hidden": null}}),
        )
        .await
        .assert_error(400, "NOT_NULL_VIOLATION");
    assert_eq!(db.column_names("orders").await, before);
    assert_eq!(db.column_names("empty_one").await, ["id", "name"]);
    let amount = server.get("/fields/orders/amount").await;
    assert_eq!(amount.assert_ok()["type"], "float");
    assert_eq!(amount.assert_ok()["meta"]["hidden"], false);
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM rectus_fields WHERE field = 'half'")
            .await,
        0
    );
}
on_every_db!(
    bad_field_input_is_refused_and_changes_nothing,
    bad_field_input
);

async fn echoed_schema_changes_nothing(kind: Kind) {
    let (db, server) = seeded(kind).await;
    server
        .post(
            "/fields/orders",
            json!({"field": "price", "type": "decimal", "schema": {"numeric_precision": 10, "numeric_scale": 2, "default_value": "1.50"}}),
        )
        .await
        .assert_ok();
    server
        .post("/fields/orders", json!({"field": "body", "type": "text"}))
        .await
        .assert_ok();
    // The Studio sends back the whole field as it read it, with one meta change.
    let before = server.get("/fields/orders").await.assert_ok().clone();
    let cols_before = db.columns("orders").await;
    for f in before.as_array().unwrap() {
        let name = f["field"].as_str().unwrap();
        let mut body = f.clone();
        body["meta"] = json!({"note": "edited"});
        let r = server.patch(&format!("/fields/orders/{name}"), body).await;
        let data = r.assert_ok();
        assert_eq!(data["schema"], f["schema"], "{name}");
        assert_eq!(data["type"], f["type"], "{name}");
        assert_eq!(data["meta"]["note"], "edited");
    }
    assert_eq!(db.columns("orders").await, cols_before);
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM orders").await, 2);
}
on_every_db!(
    echoed_schema_changes_nothing_but_meta,
    echoed_schema_changes_nothing
);
