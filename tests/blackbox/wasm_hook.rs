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
        if kind == Kind::MySql {
            "`order`"
        } else {
            "\"order\""
        }
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
        async move {
            db.count(&format!("SELECT COUNT(*) AS n FROM {table}"))
                .await
        }
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
        .post(
            "/items/probe_orders",
            json!({"amount": 2, "note": "malformed"}),
        )
        .await;
    r.assert_error(400, "FAILED_VALIDATION");
    assert!(r.message().contains("malformed JSON"), "{}", r.message());
    let r = server
        .post("/items/probe_orders", json!({"amount": 2, "note": "loop"}))
        .await;
    r.assert_error(400, "FAILED_VALIDATION");
    assert!(
        r.message().contains("ran longer than 300 ms"),
        "{}",
        r.message()
    );
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

/// Rhai hooks get the same items API, behind the same grants.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rhai_hooks_reach_items_through_grants() {
    let db = TestDb::create(Kind::Sqlite).await;
    db.exec("CREATE TABLE notes (id integer primary key, body varchar(50))")
        .await;
    db.exec("CREATE TABLE audit (id integer primary key, what varchar(80))")
        .await;
    let ext = ExtDir::new(&db);
    let dir = ext.0.join("auditor");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("extension.toml"),
        "id = \"auditor\"\nname = \"Auditor\"\nversion = \"1.0.0\"\nkinds = [\"hook\"]\nsource = \"rhai\"\nentry = \"hook.rhai\"\nsdk = \"0.1.0\"\ncapabilities = [\"items:read:notes\", \"items:write:audit\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("hook.rhai"),
        r#"
        filter("notes.items.create", |payload, meta| {
            let existing = items_read("notes", "aggregate[count]=*");
            payload.body = `${payload.body} (#${existing[0].count + 1})`;
            payload
        });
        action("notes.items.create", |meta| {
            items_create("audit", #{ what: `note ${meta.keys[0]} by ${meta.user}` });
        });
        "#,
    )
    .unwrap();
    let server = Server::start_with(&db, &[("EXTENSIONS_PATH", ext.path())]).await;

    // Not granted: the filter's read throws, which rejects the write with the reason.
    let r = server.post("/items/notes", json!({"body": "a"})).await;
    r.assert_error(400, "FAILED_VALIDATION");
    assert!(r.message().contains("permission"), "{}", r.message());

    grant(
        &server,
        "auditor",
        &["items:read:notes", "items:write:audit"],
    )
    .await;
    let r = server.post("/items/notes", json!({"body": "a"})).await;
    assert_eq!(r.assert_ok()["body"], "a (#1)");
    within(3, "the action wrote its audit row", || async {
        db.count("SELECT COUNT(*) AS n FROM audit").await == 1
    })
    .await;
}
