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
