//! System collections (`/users`, `/roles`, `/policies`, `/permissions`, `/access`) served
//! with the same query language and writes as items, secrets concealed, and a user's own
//! profile open to it without letting it raise its privileges.

use crate::harness::{Kind, Server, TestDb, ADMIN_EMAIL};
use crate::on_every_db;
use serde_json::json;

async fn system_collections_with_the_query_language(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    let r = server
        .get("/users?fields=email,password,token,role.name")
        .await;
    assert_eq!(
        r.body,
        json!({"data": [{"email": ADMIN_EMAIL, "password": "**********", "token": "**********", "role": {"name": "Administrator"}}]}),
        "{kind:?}"
    );
    let r = server.get("/roles?fields=name,users.email").await;
    assert_eq!(
        r.body,
        json!({"data": [{"name": "Administrator", "users": [{"email": ADMIN_EMAIL}]}]})
    );
    let r = server
        .get("/policies?fields=name,admin_access&sort=name")
        .await;
    assert_eq!(
        r.body,
        json!({"data": [{"name": "$t:public_label", "admin_access": false}, {"name": "Administrator", "admin_access": true}]}),
        "{kind:?}"
    );
    let r = server
        .get("/access?fields=policy.name&filter[role][_null]=true")
        .await;
    assert_eq!(
        r.body,
        json!({"data": [{"policy": {"name": "$t:public_label"}}]}),
        "the Public policy's access row"
    );
    server
        .get("/users?filter[password][_eq]=x")
        .await
        .assert_error(400, "INVALID_QUERY");
    server
        .get("/items/directus_users")
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .get("/items/rectus_users")
        .await
        .assert_error(403, "FORBIDDEN");

    // An editor made through the API, with a policy and a permission.
    let role = server.post("/roles", json!({"name": "Editor"})).await;
    let role_id = role.assert_ok()["id"].as_str().unwrap().to_string();
    let policy = server
        .post("/policies", json!({"name": "Editors", "app_access": true}))
        .await;
    let policy_id = policy.assert_ok()["id"].as_str().unwrap().to_string();
    server
        .post("/access", json!({"role": role_id, "policy": policy_id}))
        .await
        .assert_ok();
    let perm = server.post("/permissions", json!({"policy": policy_id, "collection": "notes", "action": "read", "fields": ["*"], "permissions": {}})).await;
    assert_eq!(perm.assert_ok()["fields"], json!(["*"]));
    let user = server
        .post(
            "/users",
            json!({"email": "ed@example.com", "password": "pw-123", "role": role_id}),
        )
        .await;
    let user_id = user.assert_ok()["id"].as_str().unwrap().to_string();
    assert_eq!(user.body["data"]["password"], "**********");
    let stored = db
        .query("SELECT password FROM rectus_users WHERE email = 'ed@example.com'")
        .await;
    assert!(stored[0]["password"]
        .as_str()
        .unwrap()
        .starts_with("$argon2id$"));
    let r = server
        .get("/policies?fields=name,permissions.collection&filter[name][_eq]=Editors")
        .await;
    assert_eq!(
        r.body,
        json!({"data": [{"name": "Editors", "permissions": [{"collection": "notes"}]}]})
    );

    // The editor logs in and sees and edits its own profile, and nothing more.
    let login = server
        .anonymous()
        .post(
            "/auth/login",
            json!({"email": "ed@example.com", "password": "pw-123"}),
        )
        .await;
    let token = login.assert_ok()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let ed = server.as_token(Some(&token));
    let me = ed.get("/users/me?fields=id,email,role.name").await;
    assert_eq!(
        me.body,
        json!({"data": {"id": user_id, "email": "ed@example.com", "role": {"name": "Editor"}}}),
        "{kind:?}"
    );
    let r = ed
        .patch("/users/me?fields=first_name", json!({"first_name": "Ed"}))
        .await;
    assert_eq!(r.body, json!({"data": {"first_name": "Ed"}}));
    ed.patch("/users/me", json!({"role": null}))
        .await
        .assert_error(403, "FORBIDDEN");
    ed.patch("/users/me", json!({"status": "active", "first_name": "x"}))
        .await
        .assert_error(403, "FORBIDDEN");
    // `app_access` reads its own user (Directus's minimal app permissions), no one else.
    let users = ed.get("/users?fields=email").await;
    assert_eq!(
        users.assert_ok(),
        &json!([{"email": "ed@example.com"}]),
        "{kind:?}"
    );
    let admin_id = server
        .get("/users?fields=id&filter[email][_eq]=admin@example.com")
        .await
        .body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    ed.get(&format!("/users/{admin_id}"))
        .await
        .assert_error(403, "FORBIDDEN");
    ed.patch(&format!("/users/{admin_id}"), json!({"first_name": "x"}))
        .await
        .assert_error(403, "FORBIDDEN");
    ed.post("/roles", json!({"name": "Mine"}))
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .anonymous()
        .get("/users/me")
        .await
        .assert_error(401, "INVALID_CREDENTIALS");
    let rows = db
        .query("SELECT role FROM rectus_users WHERE email = 'ed@example.com'")
        .await;
    assert!(
        rows[0]["role"].is_string(),
        "the role survived the attempts"
    );

    // Deleting the user ends its sessions too.
    server
        .anonymous()
        .post(
            "/auth/login",
            json!({"email": "ed@example.com", "password": "pw-123", "mode": "json"}),
        )
        .await
        .assert_ok();
    assert_eq!(
        server.delete(&format!("/users/{user_id}")).await.status,
        204
    );
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM rectus_sessions").await,
        0
    );
}
on_every_db!(
    system_collections_with_the_query_language_on_every_db,
    system_collections_with_the_query_language
);

/// Every write leaves an activity row and, for creates and updates, a revision with the
/// item's data after the change — in the same transaction, read back through `/activity`
/// and `/revisions`, which the API never writes.
async fn writes_are_recorded(kind: Kind) {
    let db = TestDb::create(kind).await;
    db.exec("CREATE TABLE notes (id integer primary key, body varchar(50))")
        .await;
    let server = Server::start(&db).await;
    server
        .post("/items/notes", json!({"id": 1, "body": "first"}))
        .await
        .assert_ok();
    server
        .patch("/items/notes/1", json!({"body": "second"}))
        .await
        .assert_ok();
    assert_eq!(server.delete("/items/notes/1").await.status, 204);
    // A write that fails records nothing.
    server
        .post("/items/notes", json!({"id": "x"}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");

    let r = server
        .get("/activity?fields=action,collection,item,user,ip&sort=id")
        .await;
    let admin = server.get("/users?fields=id").await.body["data"][0]["id"].clone();
    let rows = r.assert_ok().as_array().unwrap().clone();
    let actions: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap(),
                a["collection"].as_str().unwrap(),
                a["item"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("create", "notes", "1"),
            ("update", "notes", "1"),
            ("delete", "notes", "1")
        ],
        "{kind:?}"
    );
    assert!(
        rows.iter()
            .all(|a| a["user"] == admin && a["ip"] == "127.0.0.1"),
        "{rows:?}"
    );
    let r = server
        .get("/revisions?fields=data,delta,activity.action&sort=id")
        .await;
    let revs = r.assert_ok().as_array().unwrap().clone();
    assert_eq!(revs.len(), 2, "no revision for the delete");
    assert_eq!(revs[1]["data"]["body"], "second");
    assert_eq!(revs[1]["delta"], json!({"body": "second"}));
    assert_eq!(revs[1]["activity"]["action"], "update");
    // System collections are logged under their Directus names; secrets never appear.
    server
        .post(
            "/users",
            json!({"email": "ed@example.com", "password": "pw"}),
        )
        .await
        .assert_ok();
    let r = server
        .get("/revisions?fields=data&filter[collection][_eq]=directus_users")
        .await;
    assert_eq!(r.body["data"][0]["data"]["password"], "**********");
    // Read-only through the API.
    server
        .post(
            "/activity",
            json!({"action": "create", "collection": "x", "item": "1"}),
        )
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .admin()
        .send_raw("DELETE", "/revisions", "application/json", "[1]")
        .await
        .assert_error(403, "FORBIDDEN");
    // A collection with `accountability: null` is not recorded.
    server
        .patch(
            "/collections/notes",
            json!({"meta": {"accountability": null}}),
        )
        .await
        .assert_ok();
    server
        .post("/items/notes", json!({"id": 2, "body": "quiet"}))
        .await
        .assert_ok();
    let r = server
        .get("/activity?filter[item][_eq]=2&filter[collection][_eq]=notes")
        .await;
    assert_eq!(r.body, json!({"data": []}), "{kind:?}");
}
on_every_db!(writes_are_recorded_on_every_db, writes_are_recorded);
