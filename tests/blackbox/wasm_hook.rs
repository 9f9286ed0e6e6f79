//! WASM components as hooks: a filter changes or rejects a write before anything is
//! written (its error is the client's 400, a malformed answer or a runaway filter rejects
//! only that write), and an action runs after commit under the writer's accountability,
//! writing through a granted capability; an action's failure is only logged.

use crate::harness::{Kind, Server, TestDb};
use crate::wasm_support::{grant, serial, within, ExtDir};
use serde_json::json;

async fn filters_and_actions_around_writes(kind: Kind) {
    let db = TestDb::create(kind).await;
    db.exec(&format!(
        "CREATE TABLE probe_orders (id {}, amount integer, note varchar(50))",
        serial(kind)
    ))
    .await;
    db.exec(&format!(
        "CREATE TABLE probe_log (id {}, {} integer)",
        serial(kind),
        if kind == Kind::MySql { "`order`" } else { "\"order\"" }
    ))
    .await;
    let ext = ExtDir::new(&db);
    ext.add_probe("probe", &["items:write:probe_log"]);
    let (server, log) = Server::start_logged(
        &db,
        &[
            ("EXTENSIONS_PATH", ext.path()),
            ("EXTENSIONS_WASM_TIMEOUT_MS", "300"),
        ],
    )
    .await;
    let count = |table: &'static str| {
        let db = &db;
        async move { db.count(&format!("SELECT COUNT(*) AS n FROM {table}")).await }
    };

    // The filter rejects with its own message; nothing is written.
    let r = server
        .post("/items/probe_orders", json!({"amount": -1}))
        .await;
    r.assert_error(400, "FAILED_VALIDATION");
    assert_eq!(r.message(), "Probe: negative amounts are refused.");
    assert_eq!(count("probe_orders").await, 0);

    // Not granted yet: the write succeeds, the action's failure is only logged.
    server
        .post("/items/probe_orders", json!({"amount": 1}))
        .await
        .assert_ok();
    within(3, "the action's failure is logged", || async {
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("action hook failed")
    })
    .await;
    assert_eq!(count("probe_log").await, 0);

    // Granted: the filter's change is written, the action writes its log row as the writer.
    grant(&server, "probe", &["items:write:probe_log"]).await;
    let r = server
        .post("/items/probe_orders", json!({"amount": 3, "note": "hello"}))
        .await;
    let created = r.assert_ok().clone();
    assert_eq!(created["note"], "probed");
    within(3, "the action wrote its row", || async {
        count("probe_log").await == 1
    })
    .await;
    let rows = server.get("/items/probe_log").await;
    assert_eq!(rows.assert_ok()[0]["order"], created["id"]);

    // A malformed answer and a runaway filter reject only that write.
    let r = server
        .post("/items/probe_orders", json!({"amount": 2, "note": "malformed"}))
        .await;
    r.assert_error(400, "FAILED_VALIDATION");
    assert!(r.message().contains("malformed JSON"), "{}", r.message());
    let r = server
        .post("/items/probe_orders", json!({"amount": 2, "note": "loop"}))
        .await;
    r.assert_error(400, "FAILED_VALIDATION");
    assert!(r.message().contains("ran longer than 300 ms"), "{}", r.message());
    assert_eq!(count("probe_orders").await, 2);
    server
        .post("/items/probe_orders", json!({"amount": 4}))
        .await
        .assert_ok();

    // Switched off: the hooks stop.
    server
        .patch("/extensions/probe", json!({"meta": {"enabled": false}}))
        .await
        .assert_ok();
    server
        .post("/items/probe_orders", json!({"amount": -9}))
        .await
        .assert_ok();
}
crate::on_every_db!(wasm_hooks, filters_and_actions_around_writes);
