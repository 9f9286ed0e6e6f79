//! Item writes through the REST module on every database: create, update, delete in all
//! of Directus's body shapes; special fields; one transaction per request; every bad
//! input answered with Directus's code, never a 500, and nothing half-written.

use crate::harness::{Kind, Server, TestDb};
use crate::on_every_db;
use serde_json::json;

async fn setup(kind: Kind) -> (TestDb, Server) {
    let db = TestDb::create(kind).await;
    let (serial, ts, uuid) = match kind {
        Kind::Postgres => ("serial primary key", "timestamptz", "uuid"),
        Kind::MySql => (
            "int auto_increment primary key",
            "timestamp null",
            "char(36)",
        ),
        Kind::Sqlite => ("integer primary key", "timestamp", "uuid"),
    };
    db.exec(&format!(
        "CREATE TABLE customers (id {serial}, email varchar(20) not null unique, vip boolean default false, score int, pin varchar(255));\n\
         CREATE TABLE orders (id {serial}, customer int references customers(id), amount float, status varchar(20) default 'Pending', date_created {ts});\n\
         CREATE TABLE tickets (id {uuid} primary key, title text);\n\
         CREATE TABLE site (id {serial}, title varchar(50));\n\
         CREATE TABLE order_lines (id {serial}, order_id int references orders(id), qty int not null)"
    ))
    .await;
    let mut server = Server::start(&db).await;
    server.stop();
    let q = |s: &str| match kind {
        Kind::MySql => format!("`{s}`"),
        _ => format!("\"{s}\""),
    };
    let (t, f) = if kind == Kind::Postgres {
        ("true", "false")
    } else {
        ("1", "0")
    };
    db.exec(&format!(
        "INSERT INTO rectus_fields (collection, field, special, {h}, {r}, {s}) VALUES ('orders', 'date_created', 'date-created', {f}, {f}, {t});\n\
         INSERT INTO rectus_fields (collection, field, special, {h}, {r}, {s}) VALUES ('customers', 'pin', 'hash', {f}, {f}, {t});\n\
         INSERT INTO rectus_fields (collection, field, special, {h}, {r}, {s}) VALUES ('tickets', 'id', 'uuid', {f}, {f}, {t});\n\
         INSERT INTO rectus_collections (collection, singleton, {h}, archive_app_filter, collapse, versioning) VALUES ('site', {t}, {f}, {t}, 'open', {f});\n\
         INSERT INTO rectus_relations (many_collection, many_field, one_collection, one_field, one_deselect_action) VALUES ('order_lines', 'order_id', 'orders', 'lines', 'nullify');\n\
         INSERT INTO rectus_fields (collection, field, special, {h}, {r}, {s}) VALUES ('orders', 'lines', 'o2m', {f}, {f}, {t})",
        h = q("hidden"),
        r = q("readonly"),
        s = q("searchable"),
    ))
    .await;
    let server = Server::start(&db).await;
    (db, server)
}

async fn count(db: &TestDb, table: &str) -> i64 {
    let rows = db
        .query(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .await;
    rows[0]["n"]
        .as_i64()
        .unwrap_or_else(|| rows[0]["n"].as_str().unwrap().parse().unwrap())
}

async fn creates_updates_and_deletes(kind: Kind) {
    let (db, server) = setup(kind).await;
    let r = server
        .post(
            "/items/customers",
            json!({"email": "ada@x.io", "vip": true, "unknown_key": 1, "pin": "1234"}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"id": 1, "email": "ada@x.io", "vip": true, "score": null, "pin": "**********"}}),
        "{kind:?}"
    );
    // A `hash` field stores argon2, never the text, and is never read back.
    let stored = db.query("SELECT pin FROM customers WHERE id = 1").await;
    assert!(
        stored[0]["pin"].as_str().unwrap().starts_with("$argon2id$"),
        "{stored:?}"
    );
    server
        .get("/items/customers?filter[pin][_eq]=1234")
        .await
        .assert_error(400, "INVALID_QUERY");
    let r = server
        .get("/items/customers?fields=id&filter[pin][_nnull]=true")
        .await;
    assert_eq!(r.body, json!({"data": [{"id": 1}]}));
    let r = server
        .post(
            "/items/customers?fields=id",
            json!([{"email": "bob@x.io"}, {"email": "cy@x.io", "score": "7"}]),
        )
        .await;
    assert_eq!(
        server.get("/items/customers/2?fields=pin").await.body,
        json!({"data": {"pin": null}})
    );
    assert_eq!(r.body, json!({"data": [{"id": 2}, {"id": 3}]}));

    // Special fields: date-created filled, uuid keys generated.
    let r = server
        .post("/items/orders", json!({"customer": 1, "amount": 9.5}))
        .await;
    let order = r.assert_ok().clone();
    assert_eq!(order["status"], "Pending", "database default");
    assert!(
        order["date_created"]
            .as_str()
            .is_some_and(|s| s.starts_with("20") && s.ends_with('Z')),
        "{order}"
    );
    let r = server
        .post("/items/tickets", json!({"title": "it's \"quoted\" \\ 😀"}))
        .await;
    let ticket = r.assert_ok().clone();
    assert!(uuid::Uuid::parse_str(ticket["id"].as_str().unwrap()).is_ok());
    assert_eq!(ticket["title"], "it's \"quoted\" \\ 😀");

    // Updates in every shape.
    let r = server
        .patch("/items/customers/2", json!({"score": 5}))
        .await;
    assert_eq!(r.body["data"]["score"], 5);
    let r = server
        .patch(
            "/items/customers?fields=id,vip",
            json!({"keys": [1, 2], "data": {"vip": false}}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": [{"id": 1, "vip": false}, {"id": 2, "vip": false}]})
    );
    let r = server
        .patch(
            "/items/customers?fields=id,score",
            json!({"query": {"filter": {"email": {"_starts_with": "cy"}}}, "data": {"score": 1}}),
        )
        .await;
    assert_eq!(r.body, json!({"data": [{"id": 3, "score": 1}]}));
    let r = server
        .patch(
            "/items/customers?fields=id,score",
            json!([{"id": 1, "score": 10}, {"id": 2, "score": 20}]),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": [{"id": 1, "score": 10}, {"id": 2, "score": 20}]})
    );
    assert_eq!(
        server
            .patch("/items/customers/999", json!({"score": 1}))
            .await
            .status,
        204,
        "missing key: Directus answers 204"
    );

    // Singletons upsert.
    let r = server.patch("/items/site", json!({"title": "Home"})).await;
    assert_eq!(r.body["data"]["title"], "Home");
    let r = server.patch("/items/site", json!({"title": "Start"})).await;
    assert_eq!(r.body["data"]["title"], "Start");
    assert_eq!(count(&db, "site").await, 1);
    server
        .post("/items/site", json!({"title": "x"}))
        .await
        .assert_error(404, "ROUTE_NOT_FOUND");

    // Deletes in every shape.
    assert_eq!(server.delete("/items/orders/1").await.status, 204);
    assert_eq!(count(&db, "orders").await, 0);
    let r = server
        .admin()
        .send_raw("DELETE", "/items/customers", "application/json", "[3]")
        .await;
    assert_eq!(r.status, 204);
    let r = server
        .admin()
        .send_raw(
            "DELETE",
            "/items/customers",
            "application/json",
            r#"{"query":{"filter":{"score":{"_eq":20}}}}"#,
        )
        .await;
    assert_eq!(r.status, 204);
    let r = server
        .admin()
        .send_raw(
            "DELETE",
            "/items/customers",
            "application/json",
            r#"{"keys":[1]}"#,
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(count(&db, "customers").await, 0);
}
on_every_db!(
    creates_updates_and_deletes_items,
    creates_updates_and_deletes
);

async fn bad_writes_change_nothing(kind: Kind) {
    let (db, server) = setup(kind).await;
    server
        .post("/items/customers", json!({"email": "ada@x.io"}))
        .await
        .assert_ok();

    let r = server.post("/items/customers", json!({"vip": true})).await;
    r.assert_error(400, "FAILED_VALIDATION");
    assert_eq!(r.body["errors"][0]["extensions"]["type"], "required");
    assert_eq!(r.body["errors"][0]["extensions"]["field"], "email");
    let r = server
        .post("/items/customers", json!({"email": null}))
        .await;
    r.assert_error(400, "FAILED_VALIDATION");
    assert_eq!(r.body["errors"][0]["extensions"]["type"], "nnull");
    let r = server
        .post(
            "/items/customers",
            json!({"email": "x@y.z", "score": "abc"}),
        )
        .await;
    r.assert_error(400, "INVALID_PAYLOAD");
    assert_eq!(r.body["errors"][0]["extensions"]["field"], "score");
    server
        .post(
            "/items/customers",
            json!({"email": "x@y.z", "score": 1u64 << 40}),
        )
        .await
        .assert_error(400, "VALUE_OUT_OF_RANGE");
    server
        .post(
            "/items/customers",
            json!({"email": "much-too-long@example.com"}),
        )
        .await
        .assert_error(400, "VALUE_TOO_LONG");
    server
        .post(
            "/items/customers",
            json!({"email": "x@y.z", "vip": "maybe"}),
        )
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .post("/items/orders", json!({"customer": 999}))
        .await
        .assert_error(400, "INVALID_FOREIGN_KEY");
    server
        .post("/items/tickets", json!({"id": "not-a-uuid"}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .post("/items/orders", json!({"date_created": "yesterday"}))
        .await;
    // A batch with one bad row writes nothing.
    server
        .post(
            "/items/customers",
            json!([{"email": "new@x.io"}, {"email": "ada@x.io"}]),
        )
        .await
        .assert_error(400, "RECORD_NOT_UNIQUE");
    assert_eq!(
        count(&db, "customers").await,
        1,
        "{kind:?}: the batch rolled back"
    );
    // Malformed bodies.
    server
        .admin()
        .send_raw("POST", "/items/customers", "application/json", "{oops")
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .post("/items/customers", json!("text"))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .post("/items/customers", json!([1, 2]))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .patch("/items/customers", json!({"data": {"score": 1}}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .patch(
            "/items/customers",
            json!({"keys": [1], "query": {}, "data": {}}),
        )
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .patch("/items/customers", json!([{"score": 1}]))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .patch("/items/customers/1", json!({"score": "x"}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .post("/items/nope", json!({}))
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .anonymous()
        .post("/items/customers", json!({"email": "a@b.c"}))
        .await
        .assert_error(403, "FORBIDDEN");
    assert_eq!(count(&db, "customers").await, 1);
    let rows = db.query("SELECT email FROM customers").await;
    assert_eq!(rows[0]["email"], "ada@x.io");
}
on_every_db!(
    bad_writes_change_nothing_on_every_db,
    bad_writes_change_nothing
);

async fn nested_writes_land_whole_or_not_at_all(kind: Kind) {
    let (db, server) = setup(kind).await;
    server
        .post("/items/customers", json!({"email": "ada@x.io"}))
        .await
        .assert_ok();

    // Create an order with a new customer and two lines in one request.
    let r = server
        .post("/items/orders?fields=id,customer.email,lines.qty", json!({"amount": 3, "customer": {"email": "new@x.io"}, "lines": [{"qty": 2}, {"qty": 3}]}))
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"id": 1, "customer": {"email": "new@x.io"}, "lines": [{"qty": 2}, {"qty": 3}]}}),
        "{kind:?}"
    );
    // A many-to-one object with a key updates that item.
    let r = server
        .post(
            "/items/orders?fields=customer.id,customer.vip",
            json!({"customer": {"id": 1, "vip": true}}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"customer": {"id": 1, "vip": true}}})
    );

    // The array form is the complete set: line 1 kept, a new line made, line 2 deselected (nullified).
    let r = server
        .patch(
            "/items/orders/1?fields=lines.id,lines.qty",
            json!({"lines": [1, {"qty": 9}]}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"lines": [{"id": 1, "qty": 2}, {"id": 3, "qty": 9}]}}),
        "{kind:?}"
    );
    let orphan = db
        .query("SELECT order_id FROM order_lines WHERE id = 2")
        .await;
    assert!(
        orphan[0]["order_id"].is_null(),
        "deselected children stay, unlinked"
    );

    // The detailed form.
    let r = server
        .patch("/items/orders/1?fields=lines.id,lines.qty", json!({"lines": {"create": [{"qty": 4}], "update": [{"id": 1, "qty": 20}], "delete": [3]}}))
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"lines": [{"id": 1, "qty": 20}, {"id": 4, "qty": 4}]}}),
        "{kind:?}"
    );
    server
        .patch("/items/orders/1", json!({"lines": {"bogus": []}}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");

    // A failure deep inside rolls back everything the request wrote.
    let before = count(&db, "orders").await;
    let r = server.post("/items/orders", json!({"amount": 1, "customer": {"email": "x@y.z"}, "lines": [{"qty": 1}, {"qty": null}]})).await;
    r.assert_error(400, "FAILED_VALIDATION");
    assert_eq!(count(&db, "orders").await, before, "{kind:?}");
    assert_eq!(
        count(&db, "customers").await,
        2,
        "{kind:?}: the nested customer rolled back too"
    );
    assert_eq!(count(&db, "order_lines").await, 4);
}
on_every_db!(
    nested_writes_land_whole_or_not_at_all_on_every_db,
    nested_writes_land_whole_or_not_at_all
);
