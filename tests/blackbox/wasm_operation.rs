//! WASM components as flow operations, driven through the library as the flow engine
//! calls them (`Registry::operation` → `OperationRunner::run`): the component describes
//! itself, runs with options and the data chain under the flow's accountability, reaches
//! items only through granted capabilities, and a runaway or trapping run fails alone.

use crate::harness::{Kind, TestDb};
use crate::wasm_support::ExtDir;
use rectus::config::{Config, Vars};
use rectus_sdk::Context;
use serde_json::json;

fn ctx(admin: bool) -> Context {
    Context {
        user: None,
        role: None,
        admin,
        ip: None,
        user_agent: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_operation_runs_under_the_flows_caller() {
    let db = TestDb::create(Kind::Sqlite).await;
    db.exec("CREATE TABLE orders (id integer primary key, amount integer)")
        .await;
    db.exec("INSERT INTO orders (amount) VALUES (7)").await;
    let ext = ExtDir::new(&db);
    ext.add_probe("probe", &["items:read:orders"]);
    // A Rhai script's operation, registered the same way.
    let dir = ext.0.join("doubler");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("extension.toml"),
        "id = \"doubler\"\nname = \"Doubler\"\nversion = \"1.0.0\"\nkinds = [\"operation\"]\nsource = \"rhai\"\nentry = \"op.rhai\"\nsdk = \"0.1.0\"\ncapabilities = [\"items:read:orders\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("op.rhai"),
        r#"operation("double", "Double", |options, data| {
            if options.read == true { return items_read("orders", "fields=amount"); }
            data.n * 2
        });"#,
    )
    .unwrap();
    let cache = crate::harness::wasm_cache_dir();
    let mut vars: Vec<(String, String)> = db.env();
    for (k, v) in [
        ("EXTENSIONS_PATH", ext.path()),
        ("EXTENSIONS_AUTO_RELOAD", "false"),
        ("EXTENSIONS_WASM_TIMEOUT_MS", "300"),
        ("EXTENSIONS_WASM_CACHE_PATH", cache.as_str()),
        ("SECRET", "operation-test"),
        ("ADMIN_EMAIL", "admin@example.com"),
        ("ADMIN_PASSWORD", "password"),
    ] {
        vars.push((k.into(), v.into()));
    }
    let config = Config::from_vars(&Vars::from_pairs(
        vars.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    ))
    .unwrap();
    let state = rectus::cli::open(config).await.unwrap();
    let _extensions = rectus::extensions::Extensions::start(state.clone()).await;

    let op = state.modules.operation("probe-op").expect("registered");
    assert_eq!(op.info().name, "Probe");
    assert_eq!(op.info().options["properties"]["do"]["type"], "string");

    let out = op
        .run(
            state.clone(),
            ctx(true),
            json!({"x": 1}),
            json!({"a": 2, "b": 3.5}),
        )
        .await
        .unwrap();
    assert_eq!(out["sum"], 5.5);
    assert_eq!(out["options"], json!({"x": 1}));

    // Runaway and trapping runs fail alone; the next run works.
    let e = op
        .run(state.clone(), ctx(true), json!({"do": "loop"}), json!({}))
        .await
        .unwrap_err();
    assert!(
        e.message.contains("ran longer than 300 ms"),
        "{}",
        e.message
    );
    let e = op
        .run(state.clone(), ctx(true), json!({"do": "trap"}), json!({}))
        .await
        .unwrap_err();
    assert!(e.message.contains("trapped"), "{}", e.message);

    // Items: only once granted, and only as far as the caller may.
    let read = json!({"read": "orders"});
    let e = op
        .run(state.clone(), ctx(true), read.clone(), json!({}))
        .await
        .unwrap_err();
    assert_eq!((e.status, e.code), (403, "FORBIDDEN"));
    state
        .modules
        .set_grants(&state.db, "probe", vec!["items:read:orders".into()])
        .await
        .unwrap()
        .expect("the probe is loaded");
    let rows = op
        .run(state.clone(), ctx(true), read.clone(), json!({}))
        .await
        .unwrap();
    assert_eq!(rows[0]["amount"], 7);
    let e = op
        .run(state.clone(), ctx(false), read, json!({}))
        .await
        .unwrap_err();
    assert_eq!(
        e.code, "FORBIDDEN",
        "a non-admin flow caller can't read orders yet"
    );

    // The Rhai operation: same table, same grants.
    let double = state.modules.operation("double").expect("registered");
    assert_eq!(double.info().name, "Double");
    let out = double
        .run(state.clone(), ctx(true), json!({}), json!({"n": 21}))
        .await
        .unwrap();
    assert_eq!(out, 42);
    let e = double
        .run(state.clone(), ctx(true), json!({"read": true}), json!({}))
        .await
        .unwrap_err();
    assert!(e.message.contains("permission"), "{}", e.message);
    state
        .modules
        .set_grants(&state.db, "doubler", vec!["items:read:orders".into()])
        .await
        .unwrap();
    let rows = double
        .run(state.clone(), ctx(true), json!({"read": true}), json!({}))
        .await
        .unwrap();
    assert_eq!(rows, json!([{"amount": 7}]));

    // Switched off: the flow engine no longer finds it.
    state
        .modules
        .set_enabled(&state.db, "probe", false)
        .await
        .unwrap();
    assert!(state.modules.operation("probe-op").is_none());
}
