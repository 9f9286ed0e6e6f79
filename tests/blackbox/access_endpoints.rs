//! The endpoints around access control: `/permissions/me`, the schema endpoints as a
//! non-administrator sees them, and invitations.

use crate::harness::{Kind, Server, TestDb};
use crate::on_every_db;
use serde_json::{json, Value};

async fn role_user(server: &Server, name: &str, permissions: Vec<Value>) -> String {
    let policy = server.post("/policies", json!({"name": name})).await;
    let policy = policy.assert_ok()["id"].as_str().unwrap().to_string();
    for mut p in permissions {
        p["policy"] = json!(policy);
        server.post("/permissions", p).await.assert_ok();
    }
    let role = server.post("/roles", json!({"name": name})).await;
    let role = role.assert_ok()["id"].as_str().unwrap().to_string();
    server
        .post("/access", json!({"role": role, "policy": policy}))
        .await
        .assert_ok();
    let token = format!("token-{name}");
    server
        .post(
            "/users",
            json!({"email": format!("{name}@example.com"), "role": role, "token": token}),
        )
        .await
        .assert_ok();
    token
}

async fn permissions_me_and_schema_endpoints(kind: Kind) {
    let db = TestDb::create(kind).await;
    db.exec(
        "CREATE TABLE notes (id integer primary key, title varchar(50), secret varchar(50));\n\
         CREATE TABLE other (id integer primary key)",
    )
    .await;
    let server = Server::start(&db).await;
    let token = role_user(
        &server,
        "writer",
        vec![
            json!({"collection": "notes", "action": "read", "fields": ["id", "title"]}),
            json!({"collection": "notes", "action": "create", "fields": ["title"], "presets": {"title": "untitled"}}),
            json!({"collection": "notes", "action": "update", "fields": "*", "permissions": {"title": {"_eq": "mine"}}}),
        ],
    )
    .await;
    let w = server.as_token(Some(&token));
    let me = w.get("/permissions/me").await;
    let me = me.assert_ok();
    assert_eq!(
        me["notes"],
        json!({
            "create": {"access": "full", "fields": ["title"], "presets": {"title": "untitled"}},
            "read": {"access": "full", "fields": ["id", "title"], "presets": null},
            "update": {"access": "partial", "fields": ["*"], "presets": null},
            "delete": {"access": "none"},
            "share": {"access": "none"},
        }),
        "{kind:?}"
    );
    assert_eq!(me["other"]["read"], json!({"access": "none"}));
    assert_eq!(me["directus_users"]["read"], json!({"access": "none"}));
    server
        .anonymous()
        .get("/permissions/me")
        .await
        .assert_error(403, "FORBIDDEN");
    let admin = server.get("/permissions/me").await;
    assert_eq!(admin.assert_ok()["other"]["delete"]["access"], "full");

    // One item: update reaches only rows titled "mine".
    db.exec("INSERT INTO notes (id, title) VALUES (1, 'mine'), (2, 'theirs')")
        .await;
    let item = |access: [bool; 3]| json!({"update": {"access": access[0]}, "delete": {"access": access[1]}, "share": {"access": access[2]}});
    assert_eq!(
        w.get("/permissions/me/notes/1").await.assert_ok(),
        &item([true, false, false]),
        "{kind:?}"
    );
    assert_eq!(
        w.get("/permissions/me/notes/2").await.assert_ok(),
        &item([false, false, false])
    );
    assert_eq!(
        w.get("/permissions/me/notes/abc").await.assert_ok(),
        &item([false, false, false])
    );
    assert_eq!(
        w.get("/permissions/me/notes").await.assert_ok(),
        &item([true, false, false])
    );
    assert_eq!(
        server.get("/permissions/me/notes/2").await.assert_ok(),
        &item([true, true, true])
    );
    w.get("/permissions/me/nope/1")
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .anonymous()
        .get("/permissions/me/notes/1")
        .await
        .assert_error(403, "FORBIDDEN");

    // The schema as the writer may read it.
    let names: Vec<Value> = w
        .get("/collections")
        .await
        .assert_ok()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["collection"].clone())
        .collect();
    assert_eq!(names, vec![json!("notes")], "{kind:?}");
    let fields: Vec<Value> = w
        .get("/fields/notes")
        .await
        .assert_ok()
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].clone())
        .collect();
    assert_eq!(fields, vec![json!("id"), json!("title")]);
    w.get("/fields/other").await.assert_error(403, "FORBIDDEN");
    w.get("/fields/notes/secret")
        .await
        .assert_error(403, "FORBIDDEN");
    w.get("/collections/other")
        .await
        .assert_error(403, "FORBIDDEN");
    assert_eq!(
        server.anonymous().get("/collections").await.assert_ok(),
        &json!([])
    );
    w.post("/collections", json!({"collection": "x", "schema": {}}))
        .await
        .assert_error(403, "FORBIDDEN");
    let all = server.get("/collections").await;
    assert_eq!(
        all.assert_ok().as_array().unwrap().len(),
        2,
        "admins see everything"
    );
}
on_every_db!(
    permissions_me_and_schema_endpoints_on_every_db,
    permissions_me_and_schema_endpoints
);

fn logged_invite_token(log: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    text.lines().rev().find_map(|line| {
        let v: Value = serde_json::from_str(line).ok()?;
        v["fields"]["token"].as_str().map(str::to_string)
    })
}

async fn invitations(kind: Kind) {
    let db = TestDb::create(kind).await;
    let (server, log) = Server::start_logged(&db, &[]).await;
    let role = server.post("/roles", json!({"name": "Guests"})).await;
    let role = role.assert_ok()["id"].as_str().unwrap().to_string();
    let r = server
        .post(
            "/users/invite",
            json!({"email": "Ann@Example.com", "role": role}),
        )
        .await;
    assert_eq!(r.status, 204, "{kind:?}: {:?}", r.body);
    let invited = server
        .get("/users?filter[email][_eq]=ann@example.com&fields=status,role")
        .await;
    assert_eq!(
        invited.assert_ok(),
        &json!([{"status": "invited", "role": role}])
    );
    let token = logged_invite_token(&log).expect("the invite token is logged");
    let anon = server.anonymous();
    anon.post(
        "/users/invite/accept",
        json!({"token": "nope", "password": "pw"}),
    )
    .await
    .assert_error(403, "INVALID_TOKEN");
    anon.post("/users/invite/accept", json!({"token": token}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    let r = anon
        .post(
            "/users/invite/accept",
            json!({"token": token, "password": "pw-ann-1"}),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    anon.post(
        "/auth/login",
        json!({"email": "ann@example.com", "password": "pw-ann-1"}),
    )
    .await
    .assert_ok();
    // Once only; an active account can't be invited again.
    anon.post(
        "/users/invite/accept",
        json!({"token": token, "password": "other"}),
    )
    .await
    .assert_error(400, "INVALID_PAYLOAD");
    server
        .post(
            "/users/invite",
            json!({"email": "ann@example.com", "role": role}),
        )
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .post(
            "/users/invite",
            json!({"email": "not-an-email", "role": role}),
        )
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    // Inviting needs the right to create users.
    anon.post(
        "/users/invite",
        json!({"email": "eve@example.com", "role": role}),
    )
    .await
    .assert_error(403, "FORBIDDEN");
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM rectus_users WHERE email = 'eve@example.com'")
            .await,
        0
    );
}
on_every_db!(invitations_on_every_db, invitations);

/// `app_access` grants Directus's minimal reads: the caller's own user, roles, policies,
/// access rows and permissions — also for a user without a role (empty `$CURRENT_ROLES`).
async fn app_access_minimal_reads(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    let policy = server
        .post(
            "/policies",
            json!({"name": "App users", "app_access": true}),
        )
        .await;
    let policy = policy.assert_ok()["id"].as_str().unwrap().to_string();
    server
        .post("/permissions", json!({"policy": policy, "collection": "directus_users", "action": "create", "fields": ["email"]}))
        .await
        .assert_ok();
    let user = server
        .post(
            "/users",
            json!({"email": "solo@example.com", "token": "token-solo"}),
        )
        .await;
    let user = user.assert_ok()["id"].as_str().unwrap().to_string();
    server
        .post("/access", json!({"user": user, "policy": policy}))
        .await
        .assert_ok();
    let c = server.as_token(Some("token-solo"));
    assert_eq!(c.get("/roles").await.assert_ok(), &json!([]), "{kind:?}");
    // A user without a role acts under Public too; never Administrator.
    assert_eq!(
        c.get("/policies?fields=name&sort=name").await.assert_ok(),
        &json!([{"name": "$t:public_label"}, {"name": "App users"}]),
        "{kind:?}"
    );
    assert_eq!(
        c.get("/permissions?fields=collection,action")
            .await
            .assert_ok(),
        &json!([{"collection": "directus_users", "action": "create"}])
    );
    assert_eq!(
        c.get("/access?fields=user").await.assert_ok(),
        &json!([{"user": user}])
    );
    assert_eq!(
        c.get("/users?fields=email").await.assert_ok(),
        &json!([{"email": "solo@example.com"}])
    );
}
on_every_db!(
    app_access_minimal_reads_on_every_db,
    app_access_minimal_reads
);
