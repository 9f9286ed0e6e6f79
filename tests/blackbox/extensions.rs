//! Guest extensions from `EXTENSIONS_PATH`: the example Rhai hook rejects negative orders
//! on every database, can be switched off at runtime (and stays off after a restart),
//! folders added, changed or removed while the server runs take effect without a restart,
//! bad folders are listed with their error while good ones load, a looping script fails
//! only its own call, and an action hook's error never reaches the client.

use crate::harness::{Kind, Server, TestDb};
use crate::on_every_db;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const EXAMPLE: &str = "reject-negative-orders";
const MESSAGE: &str = "An order can't have a negative amount.";

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/extensions")
        .join(EXAMPLE)
}

/// An empty extensions folder that lives as long as the returned guard.
struct ExtDir(PathBuf);

impl ExtDir {
    fn new(db: &TestDb) -> ExtDir {
        let dir = std::env::temp_dir().join(format!("{}_ext", db.name));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        ExtDir(dir)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }

    fn add_example(&self, folder: &str) {
        copy_dir(&example_dir(), &self.0.join(folder));
    }

    /// Writes an extension folder: a manifest for `id` and a script.
    fn add(&self, folder: &str, manifest: &str, script: &str) {
        let dir = self.0.join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("hook.rhai"), script).unwrap();
        std::fs::write(dir.join("extension.toml"), manifest).unwrap();
    }

    fn remove(&self, folder: &str) {
        std::fs::remove_dir_all(self.0.join(folder)).unwrap();
    }
}

impl Drop for ExtDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn manifest(id: &str) -> String {
    format!(
        "id = \"{id}\"\nname = \"{id}\"\nversion = \"1.0.0\"\nkinds = [\"hook\"]\nsource = \"rhai\"\nentry = \"hook.rhai\"\nsdk = \"0.1.0\"\ncapabilities = [\"log\"]\n"
    )
}

async fn create_orders(db: &TestDb) {
    let serial = db.kind.serial_pk();
    db.exec(&format!(
        "CREATE TABLE orders (id {serial}, amount integer, note varchar(50))"
    ))
    .await;
}

async fn orders(db: &TestDb) -> i64 {
    db.count("SELECT COUNT(*) AS n FROM orders").await
}

/// The `/extensions` item with this id, if listed.
async fn listed(server: &Server, id: &str) -> Option<Value> {
    let r = server.get("/extensions").await;
    r.assert_ok()
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .cloned()
}

/// Polls `check` every 50 ms for at most 2 s.
async fn within_2s<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "not within 2 s: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn example_hook_guards_orders(kind: Kind) {
    let db = TestDb::create(kind).await;
    create_orders(&db).await;
    let ext = ExtDir::new(&db);
    ext.add_example(EXAMPLE);
    let env = [("EXTENSIONS_PATH", ext.path())];
    let mut server = Server::start_with(&db, &env).await;

    let r = server.post("/items/orders", json!({"amount": -5})).await;
    r.assert_error(400, "FAILED_VALIDATION");
    assert_eq!(r.message(), MESSAGE);
    assert_eq!(orders(&db).await, 0, "nothing written");
    server
        .post("/items/orders", json!({"amount": 5}))
        .await
        .assert_ok();
    let r = server.patch("/items/orders/1", json!({"amount": -1})).await;
    r.assert_error(400, "FAILED_VALIDATION");
    assert_eq!(orders(&db).await, 1);

    let item = listed(&server, EXAMPLE).await.expect("listed");
    assert_eq!(item["meta"]["source"], "rhai");
    assert_eq!(item["meta"]["enabled"], true);
    assert_eq!(item["meta"]["folder"], EXAMPLE);
    assert_eq!(item["schema"]["type"], "hook");
    assert_eq!(item["schema"]["version"], "1.0.0");
    assert_eq!(item["error"], Value::Null);
    assert!(listed(&server, "rest").await.is_some(), "built-ins stay");

    // Switched off: its hooks stop at once.
    let r = server
        .patch(
            &format!("/extensions/{EXAMPLE}"),
            json!({"meta": {"enabled": false}}),
        )
        .await;
    assert_eq!(r.assert_ok()["meta"]["enabled"], false);
    server
        .post("/items/orders", json!({"amount": -5}))
        .await
        .assert_ok();
    assert_eq!(orders(&db).await, 2);

    // The switch survives a restart.
    server.stop();
    let server = Server::start_with(&db, &env).await;
    assert_eq!(
        listed(&server, EXAMPLE).await.unwrap()["meta"]["enabled"],
        false
    );
    server
        .post("/items/orders", json!({"amount": -6}))
        .await
        .assert_ok();
    server
        .patch(
            &format!("/extensions/{EXAMPLE}"),
            json!({"meta": {"enabled": true}}),
        )
        .await
        .assert_ok();
    server
        .post("/items/orders", json!({"amount": -7}))
        .await
        .assert_error(400, "FAILED_VALIDATION");
    assert_eq!(orders(&db).await, 3);
}
on_every_db!(example_hook, example_hook_guards_orders);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_added_changed_and_removed_apply_without_restart() {
    let db = TestDb::create(Kind::Sqlite).await;
    create_orders(&db).await;
    let ext = ExtDir::new(&db);
    let server = Server::start_with(&db, &[("EXTENSIONS_PATH", ext.path())]).await;
    assert!(listed(&server, EXAMPLE).await.is_none());
    server
        .post("/items/orders", json!({"amount": -1}))
        .await
        .assert_ok();

    ext.add_example(EXAMPLE);
    within_2s("the copied extension is listed", || async {
        listed(&server, EXAMPLE)
            .await
            .is_some_and(|m| m["error"].is_null())
    })
    .await;
    let r = server.post("/items/orders", json!({"amount": -2})).await;
    r.assert_error(400, "FAILED_VALIDATION");
    assert_eq!(r.message(), MESSAGE);

    // A changed script replaces the old one.
    ext.add(
        EXAMPLE,
        &manifest(EXAMPLE),
        r#"filter("orders.items.create", |p, m| { if p.amount < 0 { throw "changed"; } p });"#,
    );
    within_2s("the changed script is active", || async {
        server
            .post("/items/orders", json!({"amount": -3}))
            .await
            .message()
            == "changed"
    })
    .await;

    ext.remove(EXAMPLE);
    within_2s("the removed extension is gone", || async {
        listed(&server, EXAMPLE).await.is_none()
    })
    .await;
    server
        .post("/items/orders", json!({"amount": -4}))
        .await
        .assert_ok();
    assert_eq!(orders(&db).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_folders_are_listed_with_their_error_and_skipped() {
    let db = TestDb::create(Kind::Sqlite).await;
    create_orders(&db).await;
    let ext = ExtDir::new(&db);
    ext.add_example(EXAMPLE);
    let ok = r#"filter("items.create", |p, m| p);"#;
    ext.add(
        "bad-sdk",
        &manifest("bad-sdk").replace("0.1.0", "9.9.9"),
        ok,
    );
    ext.add(
        "bad-kind",
        &manifest("bad-kind").replace("[\"hook\"]", "[\"gizmo\"]"),
        ok,
    );
    ext.add(
        "no-version",
        &manifest("no-version").replace("version = \"1.0.0\"\n", ""),
        ok,
    );
    ext.add(
        "syntax",
        &manifest("syntax"),
        r#"filter("items.create", |p, m| { p "#,
    );
    // Sorted after the example's folder, so it is the second to claim the id.
    ext.add("zz-duplicate", &manifest(EXAMPLE), ok);
    // A built-in's folder is not loaded, nor listed twice.
    ext.add(
        "rest",
        "id = \"rest\"\nname = \"REST API\"\nversion = \"0.1.0\"\nkinds = [\"endpoint\"]\nsource = \"builtin\"\nsdk = \"0.1.0\"\n",
        "",
    );
    let server = Server::start_with(&db, &[("EXTENSIONS_PATH", ext.path())]).await;

    let all = server.get("/extensions").await;
    let all = all.assert_ok().as_array().unwrap().clone();
    let by_folder = |folder: &str| {
        all.iter()
            .find(|m| m["meta"]["folder"] == folder)
            .unwrap_or_else(|| panic!("{folder} listed: {all:?}"))
            .clone()
    };
    let error = |folder: &str| {
        by_folder(folder)["error"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert!(
        error("bad-sdk").contains("unsupported SDK version"),
        "{}",
        error("bad-sdk")
    );
    assert!(
        error("bad-kind").contains("unknown kind \"gizmo\""),
        "{}",
        error("bad-kind")
    );
    assert!(
        error("no-version").contains("\"version\" is required"),
        "{}",
        error("no-version")
    );
    assert!(
        error("syntax").contains("syntax error"),
        "{}",
        error("syntax")
    );
    assert!(
        error("zz-duplicate").contains("duplicate id"),
        "{}",
        error("zz-duplicate")
    );
    assert_eq!(by_folder("bad-sdk")["meta"]["enabled"], false);
    assert_eq!(by_folder(EXAMPLE)["error"], Value::Null);
    assert_eq!(
        all.iter().filter(|m| m["id"] == "rest").count(),
        1,
        "the builtin folder is skipped"
    );

    // The good one loaded.
    server
        .post("/items/orders", json!({"amount": -1}))
        .await
        .assert_error(400, "FAILED_VALIDATION");
    // A broken folder that gets fixed loads on the next scan.
    ext.add("syntax", &manifest("syntax"), ok);
    within_2s("the fixed script loads", || async {
        listed(&server, "syntax")
            .await
            .is_some_and(|m| m["error"].is_null())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_script_fails_its_own_call_and_the_server_keeps_serving() {
    let db = TestDb::create(Kind::Sqlite).await;
    create_orders(&db).await;
    let ext = ExtDir::new(&db);
    ext.add(
        "spin",
        &manifest("spin"),
        r#"filter("orders.items.create", |p, m| { if p.amount == 13 { loop { } } p });"#,
    );
    let server = Server::start_with(
        &db,
        &[
            ("EXTENSIONS_PATH", ext.path()),
            ("EXTENSIONS_RHAI_TIMEOUT_MS", "300"),
        ],
    )
    .await;
    let started = Instant::now();
    let (looping, ping) =
        tokio::join!(server.post("/items/orders", json!({"amount": 13})), async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            server.anonymous().get("/server/ping").await
        });
    looping.assert_error(400, "FAILED_VALIDATION");
    assert_eq!(
        looping.message(),
        "Extension \"spin\" timed out after 300 ms."
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(ping.status, 200, "the host answers while the script spins");
    assert_eq!(orders(&db).await, 0);
    server
        .post("/items/orders", json!({"amount": 1}))
        .await
        .assert_ok();
    assert_eq!(orders(&db).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_hook_error_does_not_reach_the_client() {
    let db = TestDb::create(Kind::Sqlite).await;
    create_orders(&db).await;
    let ext = ExtDir::new(&db);
    ext.add(
        "failing-action",
        &manifest("failing-action"),
        r#"
        action("orders.items.create", |meta| { throw "action broke"; });
        action("items.create", |meta| { log(`created ${meta.keys}`); });
        "#,
    );
    let server = Server::start_with(&db, &[("EXTENSIONS_PATH", ext.path())]).await;
    assert_eq!(
        listed(&server, "failing-action").await.unwrap()["error"],
        Value::Null
    );
    for amount in [1, 2] {
        server
            .post("/items/orders", json!({"amount": amount}))
            .await
            .assert_ok();
    }
    assert_eq!(orders(&db).await, 2);
    server.anonymous().get("/server/ping").await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_auto_reload_the_folder_is_read_once() {
    let db = TestDb::create(Kind::Sqlite).await;
    let ext = ExtDir::new(&db);
    let server = Server::start_with(
        &db,
        &[
            ("EXTENSIONS_PATH", ext.path()),
            ("EXTENSIONS_AUTO_RELOAD", "false"),
        ],
    )
    .await;
    ext.add_example(EXAMPLE);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(listed(&server, EXAMPLE).await.is_none());
}
