//! WASM components as endpoints (`/<extension-id>/…`): they act under the caller's
//! accountability, reach items only through capabilities an admin granted, and every way
//! a component can misbehave — looping forever, allocating without bound, trapping,
//! answering malformed data — fails only that request, with a clear error, while the
//! host keeps serving.

use crate::harness::{Kind, Server, TestDb};
use crate::wasm_support::{grant, listed, serial, ExtDir};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn probe_server(db: &TestDb, ext: &ExtDir, extra: &[(&str, &str)]) -> Server {
    let mut env = vec![("EXTENSIONS_PATH", ext.path())];
    env.extend_from_slice(extra);
    Server::start_with(db, &env).await
}

async fn acts_for_the_caller_through_granted_capabilities(kind: Kind) {
    let db = TestDb::create(kind).await;
    db.exec(&format!(
        "CREATE TABLE orders (id {}, amount integer)",
        serial(kind)
    ))
    .await;
    db.exec("INSERT INTO orders (amount) VALUES (5)").await;
    let ext = ExtDir::new(&db);
    ext.add_probe("probe", &["items:read:orders", "env:PROBE_SECRET", "cache"]);
    let server = probe_server(&db, &ext, &[("PROBE_SECRET", "s3cret")]).await;

    let item = listed(&server, "probe").await.expect("listed");
    assert_eq!(item["meta"]["source"], "wasm");
    assert_eq!(item["error"], Value::Null);
    assert_eq!(item["meta"]["granted"], json!([]));

    // The caller reaches the guest as itself: the admin, then nobody.
    let r = server.get("/probe/whoami").await;
    assert_eq!(r.assert_ok()["admin"], true);
    let r = server.anonymous().get("/probe/whoami").await;
    assert_eq!(r.assert_ok(), &json!({"user": null, "admin": false}));

    // Not granted yet: FORBIDDEN, naming the capability.
    let r = server.get("/probe/items/orders").await;
    r.assert_error(403, "FORBIDDEN");
    assert_eq!(
        r.body["errors"][0]["extensions"]["capability"],
        "items:read:orders"
    );
    server
        .get("/probe/env/PROBE_SECRET")
        .await
        .assert_error(403, "FORBIDDEN");

    // Granting what the manifest asks for; asking for more is refused.
    let r = server
        .patch(
            "/extensions/probe",
            json!({"meta": {"granted": ["items:write:orders"]}}),
        )
        .await;
    r.assert_error(400, "INVALID_PAYLOAD");
    let r = server
        .patch(
            "/extensions/probe",
            json!({"meta": {"granted": "items:read:orders"}}),
        )
        .await;
    r.assert_error(400, "INVALID_PAYLOAD");
    let granted = grant(
        &server,
        "probe",
        &["items:read:orders", "env:PROBE_SECRET", "cache"],
    )
    .await;
    assert_eq!(granted["meta"]["granted"].as_array().unwrap().len(), 3);

    let r = server.get("/probe/items/orders?fields=amount").await;
    assert_eq!(r.assert_ok(), &json!([{"amount": 5}]));
    let r = server.get("/probe/env/PROBE_SECRET").await;
    assert_eq!(r.assert_ok(), "s3cret");
    let r = server
        .admin()
        .send_raw("PUT", "/probe/cache/k", "text/plain", "v1")
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(server.get("/probe/cache/k").await.assert_ok(), "v1");

    // Granted, but the caller itself may not read: the caller's rights still apply.
    server
        .anonymous()
        .get("/probe/items/orders")
        .await
        .assert_error(403, "FORBIDDEN");
    // Only what was asked for: writing was never granted.
    server
        .post("/probe/create/orders", json!({"amount": 1}))
        .await
        .assert_error(403, "FORBIDDEN");

    // Grants survive a restart (stored), and revoking applies at once.
    drop(server);
    let server = probe_server(&db, &ext, &[("PROBE_SECRET", "s3cret")]).await;
    server.get("/probe/items/orders").await.assert_ok();
    grant(&server, "probe", &[]).await;
    server
        .get("/probe/items/orders")
        .await
        .assert_error(403, "FORBIDDEN");

    // Switched off: its routes are gone at once.
    server
        .patch("/extensions/probe", json!({"meta": {"enabled": false}}))
        .await
        .assert_ok();
    server
        .get("/probe/whoami")
        .await
        .assert_error(404, "ROUTE_NOT_FOUND");
    server
        .patch("/extensions/probe", json!({"meta": {}}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
}
crate::on_every_db!(
    wasm_endpoint_capabilities,
    acts_for_the_caller_through_granted_capabilities
);

/// A request that fails with the extension's error, and the host still answering.
async fn fails_alone(server: &Server, path: &str, expected: &str) {
    let started = Instant::now();
    let r = server.get(path).await;
    r.assert_error(500, "INTERNAL_SERVER_ERROR");
    assert!(
        r.message().contains(expected),
        "{path}: {:?} should mention {expected:?}",
        r.message()
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{path} was stopped in time"
    );
    server.get("/probe/whoami").await.assert_ok();
    server.get("/server/ping").await;
    server.get("/items/orders").await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaving_components_fail_only_their_call() {
    let db = TestDb::create(Kind::Sqlite).await;
    db.exec("CREATE TABLE orders (id integer primary key, amount integer)")
        .await;
    let ext = ExtDir::new(&db);
    ext.add_probe("probe", &[]);
    let (server, log) = Server::start_logged(
        &db,
        &[
            ("EXTENSIONS_PATH", ext.path()),
            ("EXTENSIONS_WASM_TIMEOUT_MS", "300"),
            ("EXTENSIONS_WASM_MEMORY_MB", "32"),
        ],
    )
    .await;

    // The sandbox: WASI without files, sockets or environment variables.
    let r = server.get("/probe/fs").await;
    assert!(
        r.assert_ok().as_str().unwrap().starts_with("refused"),
        "{:?}",
        r.body
    );
    let r = server.get("/probe/net").await;
    assert!(
        r.assert_ok().as_str().unwrap().starts_with("refused"),
        "{:?}",
        r.body
    );
    assert_eq!(server.get("/probe/environ").await.assert_ok(), 0);

    fails_alone(&server, "/probe/loop", "ran longer than 300 ms").await;
    fails_alone(&server, "/probe/alloc", "memory limit of 32 MiB").await;
    fails_alone(&server, "/probe/trap", "trapped").await;
    fails_alone(&server, "/probe/malformed", "status 42").await;
    // An unknown path inside the endpoint is the guest's own 404.
    server
        .get("/probe/nothing-here")
        .await
        .assert_error(404, "ROUTE_NOT_FOUND");

    // Several at once: each stopped, none blocking the others.
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let (url, token) = (
                format!("{}/probe/loop", server.url),
                server.token.clone().unwrap(),
            );
            tokio::spawn(async move {
                reqwest::Client::new()
                    .get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), 500);
    }
    server.get("/probe/whoami").await.assert_ok();

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("WASM extension call failed") && text.contains("ran longer than 300 ms"),
        "each failure is logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_components_are_refused_at_load_and_listed() {
    let db = TestDb::create(Kind::Sqlite).await;
    let ext = ExtDir::new(&db);
    ext.add_probe("probe", &[]);
    // A second folder claiming the same id.
    ext.add("probe-copy", "probe", "probe", &["endpoint"], &[]);
    // A component that imports a host function the host does not have.
    ext.add("missing", "missing_import", "missing", &["operation"], &[]);
    // A component that does not provide the world its manifest claims (REST is no
    // operation).
    ext.add(
        "wrong-world",
        "rectus_rest",
        "wrong-world",
        &["operation", "endpoint"],
        &[],
    );
    // Not a component at all.
    ext.add("garbage", "probe", "garbage", &["endpoint"], &[]);
    std::fs::write(ext.0.join("garbage/guest.wasm"), b"\0asm garbage").unwrap();
    // Asks for a capability that does not exist.
    ext.add(
        "bad-cap",
        "probe",
        "bad-cap",
        &["endpoint"],
        &["net:everything"],
    );
    let server = Server::start_with(&db, &[("EXTENSIONS_PATH", ext.path())]).await;

    let all = server.get("/extensions").await;
    let all = all.assert_ok().as_array().unwrap().clone();
    let error_of = |folder: &str| -> String {
        all.iter()
            .find(|m| m["meta"]["folder"] == folder)
            .unwrap_or_else(|| panic!("{folder} listed"))["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(error_of("probe"), "", "the first folder loads");
    assert!(
        error_of("probe-copy").contains("duplicate id"),
        "{}",
        error_of("probe-copy")
    );
    let missing = error_of("missing");
    assert!(
        missing.contains("refused at load") && missing.contains("rectus:extension/log@0.1.0"),
        "{missing}"
    );
    assert!(
        error_of("wrong-world").contains("does not provide the \"operation\" world"),
        "{}",
        error_of("wrong-world")
    );
    assert!(error_of("garbage").contains("not a valid WebAssembly component"));
    assert!(error_of("bad-cap").contains("unknown capability"));

    // The good one serves; the broken ones serve nothing.
    server.get("/probe/whoami").await.assert_ok();
    server
        .get("/wrong-world/anything")
        .await
        .assert_error(404, "ROUTE_NOT_FOUND");
    // Broken guests can't be granted anything.
    server
        .patch("/extensions/missing", json!({"meta": {"granted": []}}))
        .await
        .assert_error(403, "FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_removed_while_its_endpoint_runs() {
    let db = TestDb::create(Kind::Sqlite).await;
    let ext = ExtDir::new(&db);
    ext.add_probe("probe", &[]);
    let server = Server::start_with(
        &db,
        &[
            ("EXTENSIONS_PATH", ext.path()),
            ("EXTENSIONS_WASM_TIMEOUT_MS", "5000"),
        ],
    )
    .await;
    let url = format!("{}/probe/slow/1500", server.url);
    let token = server.token.clone().unwrap();
    let running = tokio::spawn(async move {
        reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    ext.remove("probe");
    crate::wasm_support::within(5, "the removed extension is gone", || async {
        server.get("/probe/whoami").await.status == 404
    })
    .await;
    // The call in flight finishes with the code it started with.
    assert_eq!(running.await.unwrap().unwrap(), 200);
    assert!(listed(&server, "probe").await.is_none());

    // Put back: served again, without a restart.
    ext.add_probe("probe", &[]);
    crate::wasm_support::within(5, "the extension is back", || async {
        server.get("/probe/whoami").await.status == 200
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compiled_components_are_cached_on_disk() {
    let db = TestDb::create(Kind::Sqlite).await;
    let ext = ExtDir::new(&db);
    ext.add_probe("probe", &[]);
    let cache = std::env::temp_dir().join(format!("{}_wasm_cache", db.name));
    let cache_path = cache.to_str().unwrap();
    let env = [
        ("EXTENSIONS_PATH", ext.path()),
        ("EXTENSIONS_WASM_CACHE_PATH", cache_path),
    ];
    let mut server = Server::start_with(&db, &env).await;
    server.get("/probe/whoami").await.assert_ok();
    let files = |dir: &std::path::Path| -> Vec<(String, std::time::SystemTime)> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().into_string().unwrap(),
                    e.metadata().unwrap().modified().unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let first = files(&cache);
    assert_eq!(first.len(), 1, "one compiled component: {first:?}");
    assert!(first[0].0.ends_with(".cwasm"));
    server.stop();
    let server = Server::start_with(&db, &env).await;
    server.get("/probe/whoami").await.assert_ok();
    assert_eq!(
        files(&cache),
        first,
        "a restart loads the cached file, unchanged"
    );
    let _ = std::fs::remove_dir_all(&cache);
}

/// `REST_MODULE=component`: the REST API is served by REST's component build (the same
/// source through the SDK's component backend), listed as such, on every route it mounts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_can_be_served_by_its_component() {
    let db = TestDb::create(Kind::Sqlite).await;
    db.exec("CREATE TABLE notes (id integer primary key, body varchar(20))")
        .await;
    let rest = crate::harness::guest_component("rectus_rest");
    let server = Server::start_with(
        &db,
        &[
            ("REST_MODULE", "component"),
            ("REST_COMPONENT_PATH", rest.to_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(
        listed(&server, "rest").await.unwrap()["meta"]["source"],
        "wasm"
    );
    let r = server.post("/items/notes", json!({"body": "hi"})).await;
    assert_eq!(r.assert_ok()["body"], "hi");
    let r = server
        .get("/items/notes?fields=body&meta=total_count")
        .await;
    assert_eq!(r.assert_ok(), &json!([{"body": "hi"}]));
    assert_eq!(r.body["meta"]["total_count"], 1);
    server.get("/users/me").await.assert_ok();
    server
        .anonymous()
        .get("/items/notes")
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .post("/items/notes", json!({"body": "far too long for twenty"}))
        .await
        .assert_error(400, "VALUE_TOO_LONG");
}
