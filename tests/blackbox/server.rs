//! `/server/*`, the error envelope, login, start-up and shutdown.

use crate::harness::{Kind, Server, TestDb, ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::on_every_db;
use serde_json::json;

async fn ping_health_info(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    let ping = server.anonymous().get("/server/ping").await;
    assert_eq!(ping.status, 200);
    assert_eq!(ping.body, json!("pong"));
    let health = server.anonymous().get("/server/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body, json!({"status": "ok"}));
    assert_eq!(health.headers["content-type"], "application/health+json");
    let admin_health = server.get("/server/health").await;
    assert_eq!(admin_health.body["status"], "ok");
    assert!(admin_health.body["checks"].is_object());
    let info = server.anonymous().get("/server/info").await;
    assert_eq!(info.body["data"]["project"]["project_name"], "Rectus");
    assert!(
        info.body["data"].get("version").is_none(),
        "anonymous callers do not see the version"
    );
    let info = server.get("/server/info").await;
    assert_eq!(info.body["data"]["version"], env!("CARGO_PKG_VERSION"));
}
on_every_db!(ping_health_info_work, ping_health_info);

async fn errors_use_the_directus_envelope(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    let r = server.anonymous().get("/nope/at/all").await;
    r.assert_error(404, "ROUTE_NOT_FOUND");
    assert_eq!(r.body["errors"][0]["extensions"]["path"], "/nope/at/all");
    // Public may read nothing by default (the schema endpoints list nothing for it).
    server
        .anonymous()
        .get("/users")
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .as_token(Some("not-a-token"))
        .get("/collections")
        .await
        .assert_error(401, "INVALID_CREDENTIALS");
    // A JWT-shaped token signed with another secret.
    let forged = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6IngiLCJyb2xlIjpudWxsLCJhcHBfYWNjZXNzIjp0cnVlLCJhZG1pbl9hY2Nlc3MiOnRydWUsImlhdCI6MSwiZXhwIjo0MTAyNDQ0ODAwLCJpc3MiOiJkaXJlY3R1cyJ9.c2lnbmF0dXJl";
    server
        .as_token(Some(forged))
        .get("/collections")
        .await
        .assert_error(403, "INVALID_TOKEN");
}
on_every_db!(
    errors_use_the_directus_envelope_everywhere,
    errors_use_the_directus_envelope
);

async fn login_issues_a_working_token(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    let anon = server.anonymous();
    let r = anon
        .post(
            "/auth/login",
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        )
        .await;
    let data = r.assert_ok();
    assert_eq!(data["expires"], 900000);
    let token = data["access_token"].as_str().unwrap().to_string();
    server
        .as_token(Some(&token))
        .get("/collections")
        .await
        .assert_ok();
    anon.post(
        "/auth/login",
        json!({"email": ADMIN_EMAIL, "password": "wrong"}),
    )
    .await
    .assert_error(401, "INVALID_CREDENTIALS");
    anon.post(
        "/auth/login",
        json!({"email": "nobody@example.com", "password": "x"}),
    )
    .await
    .assert_error(401, "INVALID_CREDENTIALS");
    anon.post(
        "/auth/login",
        json!({"email": "not-an-email", "password": "x"}),
    )
    .await
    .assert_error(400, "INVALID_PAYLOAD");
    anon.send_raw("POST", "/auth/login", "application/json", "{not json")
        .await
        .assert_error(400, "INVALID_PAYLOAD");
}
on_every_db!(
    login_issues_a_working_token_on_every_db,
    login_issues_a_working_token
);

#[tokio::test]
async fn a_bad_config_value_is_named_and_exits_non_zero() {
    let out = std::process::Command::new(crate::harness::bin())
        .arg("start")
        .env("CONFIG_PATH", "/nonexistent/.env")
        .env("PORT", "eighty")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PORT"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

#[tokio::test]
async fn an_unreachable_database_fails_the_start_clearly() {
    let out = std::process::Command::new(crate::harness::bin())
        .arg("start")
        .env("CONFIG_PATH", "/nonexistent/.env")
        .env("DB_CLIENT", "pg")
        .env(
            "DB_CONNECTION_STRING",
            "postgres://postgres@127.0.0.1:1/none",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("could not connect to the database"), "{err}");
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly() {
    let db = TestDb::create(Kind::Sqlite).await;
    let mut server = Server::start(&db).await;
    let status = server.stop();
    assert!(status.success(), "{status:?}");
}

/// The database goes away while Rectus runs: health answers 503, requests fail cleanly
/// with SERVICE_UNAVAILABLE (no 500, no hang), and service resumes by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_the_database_going_away_and_coming_back() {
    if !Kind::Postgres.enabled() {
        return;
    }
    let db = TestDb::create(Kind::Postgres).await;
    db.exec("CREATE TABLE notes (id serial primary key, body text)")
        .await;
    db.exec("INSERT INTO notes (body) VALUES ('hello')").await;
    let proxy = crate::harness::Proxy::start("127.0.0.1:5432").await;
    let rectus::config::DbConfig::Postgres { url } = &db.config else {
        unreachable!()
    };
    let via_proxy = url.replace(":5432/", &format!(":{}/", proxy.port));
    let server = Server::start_with(&db, &[("DB_CONNECTION_STRING", &via_proxy)]).await;
    assert_eq!(server.get("/server/health").await.status, 200);
    assert_eq!(
        server.get("/items/notes").await.body,
        json!({"data": [{"id": 1, "body": "hello"}]})
    );

    proxy.cut();
    let started = std::time::Instant::now();
    let health = server.get("/server/health").await;
    assert_eq!(health.status, 503, "{}", health.body);
    assert_eq!(health.body["status"], "error");
    let r = server.get("/items/notes").await;
    r.assert_error(503, "SERVICE_UNAVAILABLE");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "failing fast enough: {:?}",
        started.elapsed()
    );
    // What needs no database still answers.
    assert_eq!(server.anonymous().get("/server/ping").await.status, 200);

    proxy.restore();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if server.get("/server/health").await.status == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "service did not resume"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        server.get("/items/notes").await.body,
        json!({"data": [{"id": 1, "body": "hello"}]})
    );
}

#[tokio::test]
async fn prints_its_version() {
    let out = std::process::Command::new(crate::harness::bin())
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("rectus {}", env!("CARGO_PKG_VERSION"))
    );
}

/// Modules switch off and on at runtime, and the switch survives a restart.
async fn modules_switch_at_runtime(kind: Kind) {
    let db = TestDb::create(kind).await;
    db.exec("CREATE TABLE notes (id integer primary key, body text)")
        .await;
    let mut server = Server::start(&db).await;
    let list = server.get("/extensions").await;
    let rest = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "rest")
        .cloned()
        .unwrap();
    assert_eq!(rest["meta"]["enabled"], true);
    assert_eq!(rest["meta"]["source"], "builtin");
    assert_eq!(rest["schema"]["type"], "endpoint");
    assert_eq!(server.get("/items/notes").await.status, 200);

    let r = server
        .patch("/extensions/rest", json!({"meta": {"enabled": false}}))
        .await;
    assert_eq!(r.body["data"]["meta"]["enabled"], false);
    server
        .get("/items/notes")
        .await
        .assert_error(404, "ROUTE_NOT_FOUND");
    server.stop();
    let server = Server::start(&db).await;
    server
        .get("/items/notes")
        .await
        .assert_error(404, "ROUTE_NOT_FOUND");
    server
        .patch("/extensions/rest", json!({"meta": {"enabled": true}}))
        .await
        .assert_ok();
    assert_eq!(server.get("/items/notes").await.status, 200);

    server
        .patch("/extensions/nope", json!({"meta": {"enabled": true}}))
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .patch("/extensions/rest", json!({"meta": {"enabled": "no"}}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .patch("/extensions/rest", json!({}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .anonymous()
        .patch("/extensions/rest", json!({"meta": {"enabled": false}}))
        .await
        .assert_error(403, "FORBIDDEN");
    assert_eq!(server.get("/items/notes").await.status, 200);
}
on_every_db!(
    modules_switch_at_runtime_on_every_db,
    modules_switch_at_runtime
);
