//! The token lifecycle on every database: login in json, cookie and session modes,
//! refresh with rotation, logout and revocation, expiry, throttling and suspension.

use crate::harness::{Kind, Server, TestDb, ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::on_every_db;
use serde_json::{json, Value};

async fn post(
    server: &Server,
    path: &str,
    body: Option<Value>,
    cookie: Option<&str>,
) -> (u16, Value, Vec<String>) {
    let mut req = reqwest::Client::new().post(format!("{}{}", server.url, path));
    if let Some(b) = body {
        req = req.json(&b);
    }
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let cookies = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        cookies,
    )
}

async fn get_with_cookie(server: &Server, path: &str, cookie: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}{}", server.url, path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// `name=value` of the cookie called `name` among Set-Cookie headers.
fn cookie_pair(cookies: &[String], name: &str) -> String {
    cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

fn login_body(mode: &str) -> Value {
    json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "mode": mode})
}

async fn json_mode_refresh_rotates(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    let (status, body, _) = post(&server, "/auth/login", Some(login_body("json")), None).await;
    assert_eq!(status, 200);
    let refresh = body["data"]["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(refresh.len(), 64);
    let (status, body2, _) = post(
        &server,
        "/auth/refresh",
        Some(json!({"refresh_token": refresh})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body2}");
    let access = body2["data"]["access_token"].as_str().unwrap().to_string();
    let refresh2 = body2["data"]["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(refresh, refresh2);
    server
        .as_token(Some(&access))
        .get("/collections")
        .await
        .assert_ok();
    // The old token stopped working the moment it was used.
    let (status, body, _) = post(
        &server,
        "/auth/refresh",
        Some(json!({"refresh_token": refresh})),
        None,
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["extensions"]["code"].clone()),
        (401, json!("INVALID_CREDENTIALS"))
    );
    // Logout ends the session.
    let (status, _, _) = post(
        &server,
        "/auth/logout",
        Some(json!({"refresh_token": refresh2})),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _, _) = post(
        &server,
        "/auth/refresh",
        Some(json!({"refresh_token": refresh2})),
        None,
    )
    .await;
    assert_eq!(status, 401);
    // Bad requests.
    let (status, body, _) = post(&server, "/auth/refresh", None, None).await;
    assert_eq!(
        (status, body["errors"][0]["extensions"]["code"].clone()),
        (400, json!("INVALID_PAYLOAD"))
    );
    let (status, _, _) = post(
        &server,
        "/auth/refresh",
        Some(json!({"refresh_token": 5})),
        None,
    )
    .await;
    assert_eq!(status, 400);
    let (status, _, _) = post(
        &server,
        "/auth/login",
        Some(json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "mode": "magic"})),
        None,
    )
    .await;
    assert_eq!(status, 400);
}
on_every_db!(
    json_mode_refresh_rotates_on_every_db,
    json_mode_refresh_rotates
);

async fn cookie_and_session_modes(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    // Cookie mode: the refresh token travels as an HttpOnly cookie.
    let (status, body, cookies) =
        post(&server, "/auth/login", Some(login_body("cookie")), None).await;
    assert_eq!(status, 200);
    assert!(body["data"].get("refresh_token").is_none());
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("directus_refresh_token=")
                && c.contains("HttpOnly")
                && c.contains("Max-Age=604800")),
        "{cookies:?}"
    );
    let refresh_cookie = cookie_pair(&cookies, "directus_refresh_token");
    let (status, body, cookies2) =
        post(&server, "/auth/refresh", None, Some(&refresh_cookie)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["access_token"].is_string());
    assert_ne!(
        cookie_pair(&cookies2, "directus_refresh_token"),
        refresh_cookie,
        "rotated"
    );

    // Session mode: the access token itself is the cookie, and logout revokes it.
    let (status, body, cookies) =
        post(&server, "/auth/login", Some(login_body("session")), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["expires"], 86_400_000);
    let session = cookie_pair(&cookies, "directus_session_token");
    assert_eq!(
        get_with_cookie(&server, "/collections", &session).await,
        200
    );
    let (status, body, refreshed) = post(
        &server,
        "/auth/refresh",
        Some(json!({"mode": "session"})),
        Some(&session),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        get_with_cookie(&server, "/collections", &session).await,
        401,
        "the old session was rotated away"
    );
    let session = cookie_pair(&refreshed, "directus_session_token");
    assert_eq!(
        get_with_cookie(&server, "/collections", &session).await,
        200
    );
    let (status, _, cleared) = post(
        &server,
        "/auth/logout",
        Some(json!({"mode": "session"})),
        Some(&session),
    )
    .await;
    assert_eq!(status, 204);
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("directus_session_token=;") && c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    assert_eq!(
        get_with_cookie(&server, "/collections", &session).await,
        401,
        "revoked at logout"
    );
}
on_every_db!(
    cookie_and_session_modes_on_every_db,
    cookie_and_session_modes
);

async fn expiry_throttling_and_suspension(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start_with(
        &db,
        &[
            ("ACCESS_TOKEN_TTL", "1s"),
            ("RATE_LIMITER_LOGIN_POINTS", "5"),
        ],
    )
    .await;
    let (_, body, _) = post(&server, "/auth/login", Some(login_body("json")), None).await;
    let access = body["data"]["access_token"].as_str().unwrap().to_string();
    assert_eq!(body["data"]["expires"], 1000);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    server
        .as_token(Some(&access))
        .get("/collections")
        .await
        .assert_error(401, "TOKEN_EXPIRED");

    // A second user, suspended after three wrong passwords.
    let hash = rectus::auth::password::hash_now("secret");
    let uuid_col = if kind == Kind::Postgres {
        "'7b0c5c8e-2a5e-4f8e-9a4e-1c2d3e4f5a6b'::uuid"
    } else {
        "'7b0c5c8e-2a5e-4f8e-9a4e-1c2d3e4f5a6b'"
    };
    db.exec(&format!("INSERT INTO rectus_users (id, email, password, status, provider, text_direction, email_notifications) VALUES ({uuid_col}, 'eve@example.com', '{hash}', 'active', 'default', 'auto', {})", if kind == Kind::Postgres { "true" } else { "1" })).await;
    db.exec("UPDATE rectus_settings SET auth_login_attempts = 3")
        .await;
    for _ in 0..3 {
        let (status, _, _) = post(
            &server,
            "/auth/login",
            Some(json!({"email": "eve@example.com", "password": "wrong"})),
            None,
        )
        .await;
        assert_eq!(status, 401);
    }
    let (status, _, _) = post(
        &server,
        "/auth/login",
        Some(json!({"email": "eve@example.com", "password": "secret"})),
        None,
    )
    .await;
    assert_eq!(status, 401, "suspended: even the right password is refused");
    let rows = db
        .query("SELECT status FROM rectus_users WHERE email = 'eve@example.com'")
        .await;
    assert_eq!(rows[0]["status"], "suspended");

    // Five attempts per minute from one address (all used above), then 429 with Retry-After.
    let mut req = reqwest::Client::new()
        .post(format!("{}/auth/login", server.url))
        .json(&login_body("json"));
    req = req.header("x-test", "1");
    let res = req.send().await.unwrap();
    assert_eq!(res.status().as_u16(), 429);
    assert!(res.headers().get("retry-after").is_some());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "REQUESTS_EXCEEDED");
}
on_every_db!(
    expiry_throttling_and_suspension_on_every_db,
    expiry_throttling_and_suspension
);

/// The reset token from the server's log (mail arrives with the mail issue).
fn logged_reset_token(log: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    text.lines().rev().find_map(|line| {
        let v: Value = serde_json::from_str(line).ok()?;
        v["fields"]["token"].as_str().map(str::to_string)
    })
}

async fn password_reset_works_once(kind: Kind) {
    let db = TestDb::create(kind).await;
    let (server, log) = Server::start_logged(
        &db,
        &[(
            "PASSWORD_RESET_URL_ALLOW_LIST",
            "https://app.example.com/reset",
        )],
    )
    .await;
    let anon = server.anonymous();
    // Always 204, whether or not the account exists.
    assert_eq!(
        anon.post(
            "/auth/password/request",
            json!({"email": "nobody@example.com"})
        )
        .await
        .status,
        204
    );
    assert!(
        logged_reset_token(&log).is_none(),
        "no token for an unknown account"
    );
    anon.post(
        "/auth/password/request",
        json!({"email": ADMIN_EMAIL, "reset_url": "https://evil.example.com"}),
    )
    .await
    .assert_error(400, "INVALID_PAYLOAD");
    anon.post("/auth/password/request", json!({"email": "not-an-email"}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    let (_, body, _) = post(&server, "/auth/login", Some(login_body("json")), None).await;
    let refresh = body["data"]["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(
        anon.post(
            "/auth/password/request",
            json!({"email": ADMIN_EMAIL, "reset_url": "https://app.example.com/reset"})
        )
        .await
        .status,
        204
    );
    let mut token = None;
    for _ in 0..50 {
        token = logged_reset_token(&log);
        if token.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let token = token.expect("the reset token was logged");

    anon.post("/auth/password/reset", json!({"token": token}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    anon.post(
        "/auth/password/reset",
        json!({"token": "garbage", "password": "x"}),
    )
    .await
    .assert_error(403, "INVALID_TOKEN");
    assert_eq!(
        anon.post(
            "/auth/password/reset",
            json!({"token": token, "password": "n3w-pass"})
        )
        .await
        .status,
        204
    );
    // The old password and the old sessions are gone; the new password works.
    let (status, _, _) = post(&server, "/auth/login", Some(login_body("json")), None).await;
    assert_eq!(status, 401);
    let (status, _, _) = post(
        &server,
        "/auth/refresh",
        Some(json!({"refresh_token": refresh})),
        None,
    )
    .await;
    assert_eq!(status, 401, "sessions ended with the reset");
    let (status, _, _) = post(
        &server,
        "/auth/login",
        Some(json!({"email": ADMIN_EMAIL, "password": "n3w-pass"})),
        None,
    )
    .await;
    assert_eq!(status, 200);
    // The same token cannot be used twice.
    anon.post(
        "/auth/password/reset",
        json!({"token": token, "password": "again"}),
    )
    .await
    .assert_error(403, "INVALID_TOKEN");
    let _ = std::fs::remove_file(&log);
}
on_every_db!(
    password_reset_works_once_on_every_db,
    password_reset_works_once
);

async fn roles_and_globals_of_the_caller(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    let r = server.get("/roles/me").await;
    assert_eq!(r.assert_ok().as_array().unwrap().len(), 1);
    assert_eq!(r.body["data"][0]["name"], "Administrator");
    let r = server.get("/policies/me/globals").await;
    assert_eq!(
        r.body,
        json!({"data": {"app_access": true, "admin_access": true, "enforce_tfa": false}})
    );
    let r = server.anonymous().get("/policies/me/globals").await;
    assert_eq!(
        r.body,
        json!({"data": {"app_access": false, "admin_access": false, "enforce_tfa": false}})
    );
    server
        .anonymous()
        .get("/roles/me")
        .await
        .assert_error(403, "FORBIDDEN");
    // Nested roles come root first.
    let parent = server
        .post("/roles", json!({"name": "Staff"}))
        .await
        .assert_ok()["id"]
        .clone();
    let child = server
        .post("/roles", json!({"name": "Editors", "parent": parent}))
        .await
        .assert_ok()["id"]
        .clone();
    server
        .post(
            "/users",
            json!({"email": "ed@example.com", "password": "pw", "role": child}),
        )
        .await
        .assert_ok();
    let (_, body, _) = post(
        &server,
        "/auth/login",
        Some(json!({"email": "ed@example.com", "password": "pw"})),
        None,
    )
    .await;
    let token = body["data"]["access_token"].as_str().unwrap().to_string();
    let r = server.as_token(Some(&token)).get("/roles/me").await;
    let names: Vec<&str> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Staff", "Editors"], "{kind:?}");
}
on_every_db!(
    roles_and_globals_of_the_caller_on_every_db,
    roles_and_globals_of_the_caller
);
