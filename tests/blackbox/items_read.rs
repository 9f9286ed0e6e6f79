//! `GET /items/:collection` and `GET /items/:collection/:key` through the REST module, on
//! tables that existed before Rectus (plus metadata rows for the one-to-many side and a
//! singleton), with Directus's envelopes and error codes.

use crate::harness::{Kind, Server, TestDb};
use crate::on_every_db;
use serde_json::json;

async fn setup(kind: Kind) -> (TestDb, Server) {
    let db = TestDb::create(kind).await;
    let serial = kind.serial_pk();
    db.exec(&format!(
        "CREATE TABLE customers (id {serial}, name varchar(100) not null);\n\
         CREATE TABLE orders (id {serial}, customer int references customers(id), amount float, status varchar(20));\n\
         CREATE TABLE order_lines (id {serial}, order_id int references orders(id), qty int);\n\
         CREATE TABLE site (id {serial}, title varchar(50))"
    ))
    .await;
    db.exec(
        "INSERT INTO customers (name) VALUES ('Ada'), ('Bob');\n\
         INSERT INTO orders (customer, amount, status) VALUES (1, 10, 'Paid'), (2, 20, 'Pending'), (1, 30, 'Paid');\n\
         INSERT INTO order_lines (order_id, qty) VALUES (1, 2), (1, 4), (3, 1);\n\
         INSERT INTO site (title) VALUES ('Home')",
    )
    .await;
    // Boot once so the system tables exist, then describe the o2m side and the singleton
    // the way the schema API would, and restart to load them.
    let mut server = Server::start(&db).await;
    server.stop();
    let q = |s: &str| match kind {
        Kind::MySql => format!("`{s}`"),
        _ => format!("\"{s}\""),
    };
    db.exec(&format!(
        "INSERT INTO rectus_relations (many_collection, many_field, one_collection, one_field, one_deselect_action) VALUES ('order_lines', 'order_id', 'orders', 'lines', 'nullify');\n\
         INSERT INTO rectus_fields (collection, field, special, {h}, {r}, {s}) VALUES ('orders', 'lines', 'o2m', {f}, {f}, {t});\n\
         INSERT INTO rectus_collections (collection, singleton, {h}, archive_app_filter, collapse, versioning) VALUES ('site', {t}, {f}, {t}, 'open', {f})",
        h = q("hidden"),
        r = q("readonly"),
        s = q("searchable"),
        t = if kind == Kind::Postgres { "true" } else { "1" },
        f = if kind == Kind::Postgres { "false" } else { "0" },
    ))
    .await;
    let server = Server::start(&db).await;
    (db, server)
}

async fn lists_and_reads_items(kind: Kind) {
    let (_db, server) = setup(kind).await;
    let r = server.get("/items/orders").await;
    let data = r.assert_ok();
    assert_eq!(data.as_array().unwrap().len(), 3);
    assert_eq!(data[0]["lines"], json!([1, 2]), "{kind:?}: o2m keys");
    assert!(r.body.get("meta").is_none());

    let r = server.get("/items/orders?fields=id,customer.name,lines.qty&filter[status][_eq]=Paid&sort=-amount&meta=*").await;
    assert_eq!(
        r.body,
        json!({
            "data": [
                {"id": 3, "customer": {"name": "Ada"}, "lines": [{"qty": 1}]},
                {"id": 1, "customer": {"name": "Ada"}, "lines": [{"qty": 2}, {"qty": 4}]}
            ],
            "meta": {"total_count": 3, "filter_count": 2}
        }),
        "{kind:?}"
    );
    // JSON forms, as the SDK sends them.
    let r = server
        .get("/items/orders?filter=%7B%22amount%22%3A%7B%22_gte%22%3A20%7D%7D&fields=id&limit=1")
        .await;
    assert_eq!(r.body, json!({"data": [{"id": 2}]}));

    let r = server.get("/items/orders/1?fields=id,status").await;
    assert_eq!(r.body, json!({"data": {"id": 1, "status": "Paid"}}));

    let r = server
        .admin()
        .send_raw(
            "SEARCH",
            "/items/orders",
            "application/json",
            r#"{"query":{"filter":{"customer":{"name":{"_eq":"Bob"}}},"fields":["id"]}}"#,
        )
        .await;
    assert_eq!(r.body, json!({"data": [{"id": 2}]}), "{kind:?}");

    let r = server
        .get("/items/orders?aggregate[sum]=amount&groupBy[]=status")
        .await;
    let rows = r.assert_ok().as_array().unwrap().clone();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["status"], "Paid");
    assert_eq!(rows[0]["sum"]["amount"].as_f64(), Some(40.0));

    // Exports are downloads of the data alone.
    let r = server
        .get("/items/orders?fields=id,status&sort=id&export=csv")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "text/csv");
    let disposition = r.headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"orders ")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    assert_eq!(
        r.body,
        json!("\"id\",\"status\"\n1,\"Paid\"\n2,\"Pending\"\n3,\"Paid\"\n")
    );
    let r = server
        .get("/items/orders?fields=id&limit=2&export=json")
        .await;
    assert_eq!(r.body, json!([{"id": 1}, {"id": 2}]));
    let r = server
        .get("/items/orders?fields=id&limit=1&export=yaml")
        .await;
    assert_eq!(r.body, json!("- id: 1\n"));
    let r = server
        .get("/items/orders?fields=id,status&limit=1&export=xml")
        .await;
    assert!(
        r.body
            .as_str()
            .unwrap()
            .contains("<data><id>1</id><status>Paid</status></data>"),
        "{}",
        r.body
    );
    server
        .get("/items/orders?export=pdf")
        .await
        .assert_error(400, "INVALID_QUERY");

    // The OpenAPI document follows the live schema.
    let oas = server.get("/server/specs/oas").await.body;
    assert_eq!(oas["openapi"], "3.0.1");
    assert!(oas["paths"]["/items/orders"]["get"].is_object());
    assert!(oas["paths"]["/items/orders/{id}"]["patch"].is_object());
    assert!(
        oas["paths"]["/items/site"]["post"].is_null(),
        "singletons are not created"
    );
    assert_eq!(
        oas["components"]["schemas"]["ItemsOrders"]["properties"]["amount"]["type"],
        "number"
    );
    assert_eq!(
        oas["components"]["schemas"]["ItemsCustomers"]["required"],
        json!(["name"])
    );
    assert!(
        server.anonymous().get("/server/specs/oas").await.body["paths"]["/items/orders"].is_null()
    );

    // A singleton is one object.
    let r = server.get("/items/site").await;
    assert_eq!(
        r.body,
        json!({"data": {"id": 1, "title": "Home"}}),
        "{kind:?}"
    );
}
on_every_db!(lists_and_reads_items_over_http, lists_and_reads_items);

async fn bad_reads_answer_directus_errors(kind: Kind) {
    let (_db, server) = setup(kind).await;
    let r = server.get("/items/nope").await;
    r.assert_error(403, "FORBIDDEN");
    assert_eq!(r.message(), "You don't have permission to access collection \"nope\" or it does not exist. Queried in root.");
    server
        .get("/items/rectus_users")
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .get("/items/orders/999")
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .get("/items/orders/abc")
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .get("/items/orders?fields=nope")
        .await
        .assert_error(403, "FORBIDDEN");
    let r = server.get("/items/orders?limit=-2").await;
    r.assert_error(400, "INVALID_QUERY");
    assert_eq!(
        r.message(),
        "Invalid query. \"limit\" must be greater than or equal to -1."
    );
    server
        .get("/items/orders?limit=abc")
        .await
        .assert_error(400, "INVALID_QUERY");
    server
        .get("/items/orders?offset=-1")
        .await
        .assert_error(400, "INVALID_QUERY");
    server
        .get("/items/orders?filter={oops")
        .await
        .assert_error(400, "INVALID_QUERY");
    server
        .get("/items/orders?filter[status][_bogus]=1")
        .await
        .assert_error(400, "INVALID_QUERY");
    server
        .get("/items/orders?filter[id][_in][a]=1")
        .await
        .assert_error(400, "INVALID_QUERY");
    server
        .get("/items/orders?filter[amount][_between]=1")
        .await
        .assert_error(400, "INVALID_QUERY");
    server
        .get("/items/orders?filter[amount][_contains]=1")
        .await
        .assert_error(400, "INVALID_QUERY");
    server
        .get("/items/orders?filter[amount][_eq]=ten")
        .await
        .assert_error(400, "INVALID_QUERY");
    let deep = format!("/items/orders?fields={}id", "customer.".repeat(11));
    server.get(&deep).await.assert_error(400, "INVALID_QUERY");
    // Quotes, wildcards, NUL and SQL in values are data, not syntax.
    for v in [
        "'%3B DROP TABLE orders; --",
        "50%25",
        "a_b",
        "back%5Cslash",
        "emoji%F0%9F%98%80",
    ] {
        let r = server
            .get(&format!("/items/orders?filter[status][_contains]={v}"))
            .await;
        assert_eq!(r.body, json!({"data": []}), "{kind:?} {v}");
    }
    server
        .get("/items/orders?filter[status][_eq]=a%00b")
        .await
        .assert_error(400, "INVALID_QUERY");
    assert_eq!(
        server.get("/items/orders?fields=id&limit=1").await.status,
        200,
        "table still there"
    );
    // Anonymous callers see nothing until access control grants it.
    server
        .anonymous()
        .get("/items/orders")
        .await
        .assert_error(403, "FORBIDDEN");
    // Methods the API does not have.
    server
        .admin()
        .send_raw("PUT", "/items/orders", "application/json", "{}")
        .await
        .assert_error(404, "ROUTE_NOT_FOUND");
}
on_every_db!(
    bad_reads_answer_directus_errors_on_every_db,
    bad_reads_answer_directus_errors
);
