//! The JavaScript example endpoint (`examples/extensions/order-stats`, built with
//! componentize-qjs by scripts/build-guests.sh): `GET /order-stats/summary` totals orders
//! through the `items` capability, answering with the caller's permissions.

use crate::harness::{guest_component, Kind, Server, TestDb};
use crate::wasm_support::{grant, serial, ExtDir};
use serde_json::json;
use std::path::Path;

async fn order_stats_totals_orders(kind: Kind) {
    let db = TestDb::create(kind).await;
    db.exec(&format!(
        "CREATE TABLE orders (id {}, amount integer)",
        serial(kind)
    ))
    .await;
    db.exec("INSERT INTO orders (amount) VALUES (5), (7), (30)")
        .await;
    let ext = ExtDir::new(&db);
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/extensions/order-stats");
    let dir = ext.0.join("order-stats");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(example.join("extension.toml"), dir.join("extension.toml")).unwrap();
    std::fs::copy(guest_component("order_stats"), dir.join("order-stats.wasm")).unwrap();
    let server = Server::start_with(&db, &[("EXTENSIONS_PATH", ext.path())]).await;

    // Not granted yet: the host's FORBIDDEN comes back through the guest.
    server
        .get("/order-stats/summary")
        .await
        .assert_error(403, "FORBIDDEN");
    grant(&server, "order-stats", &["items:read:orders"]).await;
    let r = server.get("/order-stats/summary").await;
    assert_eq!(r.assert_ok(), &json!({"orders": 3, "total": 42}));
    // The caller's permissions still apply.
    server
        .anonymous()
        .get("/order-stats/summary")
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .get("/order-stats/elsewhere")
        .await
        .assert_error(404, "ROUTE_NOT_FOUND");
}
crate::on_every_db!(wasm_js_order_stats, order_stats_totals_orders);
