//! What the WASM extension tests share: an extensions folder holding copies of the probe
//! component (`guests/probe`, built by scripts/build-guests.sh) under manifests the
//! tests write, and small polling and listing helpers.

use crate::harness::{guest_component, Kind, Server, TestDb};
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// An empty extensions folder that lives as long as the value.
pub struct ExtDir(pub PathBuf);

impl ExtDir {
    pub fn new(db: &TestDb) -> ExtDir {
        let dir = std::env::temp_dir().join(format!("{}_wasm_ext", db.name));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        ExtDir(dir)
    }

    pub fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }

    /// A folder with `component` (a file of target/guests) and a manifest.
    pub fn add(&self, folder: &str, component: &str, id: &str, kinds: &[&str], caps: &[&str]) {
        let dir = self.0.join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(guest_component(component), dir.join("guest.wasm")).unwrap();
        let list = |v: &[&str]| {
            v.iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        std::fs::write(
            dir.join("extension.toml"),
            format!(
                "id = \"{id}\"\nname = \"{id}\"\nversion = \"1.0.0\"\nkinds = [{}]\nsource = \"wasm\"\nentry = \"guest.wasm\"\nsdk = \"0.1.0\"\ncapabilities = [{}]\n",
                list(kinds),
                list(caps)
            ),
        )
        .unwrap();
    }

    /// The probe as every kind it provides.
    pub fn add_probe(&self, id: &str, caps: &[&str]) {
        self.add(id, "probe", id, &["endpoint", "hook", "operation"], caps);
    }

    pub fn remove(&self, folder: &str) {
        std::fs::remove_dir_all(self.0.join(folder)).unwrap();
    }
}

impl Drop for ExtDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn serial(kind: Kind) -> &'static str {
    match kind {
        Kind::Postgres => "serial primary key",
        Kind::MySql => "int auto_increment primary key",
        Kind::Sqlite => "integer primary key",
    }
}

/// The `/extensions` item with this id, if listed.
pub async fn listed(server: &Server, id: &str) -> Option<Value> {
    let r = server.get("/extensions").await;
    r.assert_ok()
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .cloned()
}

/// Polls `check` every 50 ms for at most `secs` seconds.
pub async fn within<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "not within {secs} s: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Grants `caps` to extension `id`.
pub async fn grant(server: &Server, id: &str, caps: &[&str]) -> Value {
    let r = server
        .patch(
            &format!("/extensions/{id}"),
            serde_json::json!({"meta": {"granted": caps}}),
        )
        .await;
    r.assert_ok().clone()
}
