//! The black-box harness: a fresh database per test (SQLite file, PostgreSQL or MariaDB
//! database), the real `rectus` binary started against it on a free port, and a small
//! HTTP client. Servers and databases are removed when the test's handles drop.
//!
//! `RECTUS_TEST_DBS` (default `sqlite,postgres,mysql`) picks the databases;
//! `RECTUS_TEST_PG_URL` / `RECTUS_TEST_MYSQL_URL` point at the servers (defaults: the
//! machine's PostgreSQL and MariaDB on 127.0.0.1 with the `test` database).

#![allow(dead_code)]

use rectus::config::DbConfig;
use rectus::db::Db;
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub const ADMIN_TOKEN: &str = "blackbox-admin-token";
pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "password";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
    MySql,
}

impl Kind {
    pub fn enabled(self) -> bool {
        let list =
            std::env::var("RECTUS_TEST_DBS").unwrap_or_else(|_| "sqlite,postgres,mysql".into());
        let name = match self {
            Kind::Sqlite => "sqlite",
            Kind::Postgres => "postgres",
            Kind::MySql => "mysql",
        };
        list.split(',').any(|s| s.trim() == name)
    }

    /// The column definition of an auto-incrementing integer primary key.
    pub fn serial_pk(self) -> &'static str {
        match self {
            Kind::Postgres => "serial primary key",
            Kind::MySql => "int auto_increment primary key",
            Kind::Sqlite => "integer primary key",
        }
    }
}

fn pg_admin_url() -> String {
    std::env::var("RECTUS_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}
fn mysql_admin_url() -> String {
    std::env::var("RECTUS_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database that exists for one test.
pub struct TestDb {
    pub kind: Kind,
    pub name: String,
    pub config: DbConfig,
    dir: Option<std::path::PathBuf>,
}

impl TestDb {
    pub async fn create(kind: Kind) -> TestDb {
        let name = format!(
            "rectus_t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            rand_suffix()
        );
        match kind {
            Kind::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir).unwrap();
                TestDb {
                    kind,
                    config: DbConfig::Sqlite {
                        filename: dir.join("data.db"),
                    },
                    name,
                    dir: Some(dir),
                }
            }
            Kind::Postgres => {
                let admin = Db::connect(
                    &DbConfig::Postgres {
                        url: pg_admin_url(),
                    },
                    1,
                )
                .await
                .expect("PostgreSQL reachable");
                admin
                    .execute_raw(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap();
                admin.close().await;
                let base = pg_admin_url();
                let url = format!("{}/{}", base.rsplit_once('/').unwrap().0, name);
                TestDb {
                    kind,
                    config: DbConfig::Postgres { url },
                    name,
                    dir: None,
                }
            }
            Kind::MySql => {
                let admin = Db::connect(
                    &DbConfig::MySql {
                        url: mysql_admin_url(),
                    },
                    1,
                )
                .await
                .expect("MariaDB reachable");
                admin
                    .execute_raw(&format!(
                        "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                    ))
                    .await
                    .unwrap();
                admin.close().await;
                let base = mysql_admin_url();
                let url = format!("{}/{}", base.rsplit_once('/').unwrap().0, name);
                TestDb {
                    kind,
                    config: DbConfig::MySql { url },
                    name,
                    dir: None,
                }
            }
        }
    }

    /// A pool on the test database, for raw-SQL setup and checks.
    pub async fn connect(&self) -> Db {
        Db::connect(&self.config, 2)
            .await
            .expect("test database reachable")
    }

    /// Runs raw SQL statements (separated by `;` at line ends) on the test database.
    pub async fn exec(&self, sql: &str) {
        let db = self.connect().await;
        for stmt in sql.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
            db.execute_raw(stmt)
                .await
                .unwrap_or_else(|e| panic!("{stmt}: {e}"));
        }
        db.close().await;
    }

    /// Rows of a query on the test database, as JSON maps.
    pub async fn query(&self, sql: &str) -> Vec<serde_json::Map<String, Value>> {
        let db = self.connect().await;
        let mut q = db.sql();
        q.push(sql);
        let rows = db
            .fetch_all(&q)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        db.close().await;
        rows
    }

    /// The environment that points `rectus` at this database.
    pub fn env(&self) -> Vec<(String, String)> {
        match &self.config {
            DbConfig::Sqlite { filename } => vec![
                ("DB_CLIENT".into(), "sqlite".into()),
                ("DB_FILENAME".into(), filename.display().to_string()),
            ],
            DbConfig::Postgres { url } => vec![
                ("DB_CLIENT".into(), "pg".into()),
                ("DB_CONNECTION_STRING".into(), url.clone()),
            ],
            DbConfig::MySql { url } => vec![
                ("DB_CLIENT".into(), "mysql".into()),
                ("DB_CONNECTION_STRING".into(), url.clone()),
            ],
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
            return;
        }
        let (kind, name) = (self.kind, self.name.clone());
        // Drop runs outside async context: a short-lived runtime on its own thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                match kind {
                    Kind::Postgres => {
                        if let Ok(db) = Db::connect(
                            &DbConfig::Postgres {
                                url: pg_admin_url(),
                            },
                            1,
                        )
                        .await
                        {
                            let _ = db
                                .execute_raw(&format!(
                                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                ))
                                .await;
                            db.close().await;
                        }
                    }
                    Kind::MySql => {
                        if let Ok(db) = Db::connect(
                            &DbConfig::MySql {
                                url: mysql_admin_url(),
                            },
                            1,
                        )
                        .await
                        {
                            let _ = db
                                .execute_raw(&format!("DROP DATABASE IF EXISTS `{name}`"))
                                .await;
                            db.close().await;
                        }
                    }
                    Kind::Sqlite => {}
                }
            })
        })
        .join();
    }
}

fn rand_suffix() -> String {
    let n: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    format!("{:x}", n & 0xffffff)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `rectus start`.
pub struct Server {
    pub url: String,
    pub port: u16,
    child: Child,
    client: reqwest::Client,
    pub token: Option<String>,
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_rectus")
}

/// Where servers started by the tests cache compiled WASM components.
pub fn wasm_cache_dir() -> String {
    format!("{}/wasm-cache", env!("CARGO_TARGET_TMPDIR"))
}

/// A guest component built by scripts/build-guests.sh (`target/guests/<name>.wasm`).
pub fn guest_component(name: &str) -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/guests")
        .join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "{} is missing: run scripts/build-guests.sh first",
        path.display()
    );
    path
}

impl Server {
    /// Starts against `db` with the admin bootstrapped (static token [`ADMIN_TOKEN`]).
    pub async fn start(db: &TestDb) -> Server {
        Self::start_with(db, &[]).await
    }

    pub async fn start_with(db: &TestDb, extra: &[(&str, &str)]) -> Server {
        Self::spawn(db, extra, Stdio::inherit()).await
    }

    /// Starts with the log (JSON lines, info level) written to the returned file, for
    /// tests that read what the server logged.
    pub async fn start_logged(db: &TestDb, extra: &[(&str, &str)]) -> (Server, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("{}.log", db.name));
        let file = std::fs::File::create(&path).unwrap();
        let mut env: Vec<(&str, &str)> = vec![("LOG_LEVEL", "info"), ("LOG_STYLE", "raw")];
        env.extend_from_slice(extra);
        (Self::spawn(db, &env, Stdio::from(file)).await, path)
    }

    async fn spawn(db: &TestDb, extra: &[(&str, &str)], stderr: Stdio) -> Server {
        let port = free_port();
        let mut cmd = Command::new(bin());
        cmd.arg("start")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("CONFIG_PATH", "/nonexistent/.env")
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("ADMIN_EMAIL", ADMIN_EMAIL)
            .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("ADMIN_TOKEN", ADMIN_TOKEN)
            .env("SECRET", "blackbox-secret")
            .env(
                "LOG_LEVEL",
                std::env::var("RECTUS_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .stderr(stderr);
        for (k, v) in db.env() {
            cmd.env(k, v);
        }
        // Compiled components are cached across servers (keyed by content and engine).
        cmd.env("EXTENSIONS_WASM_CACHE_PATH", wasm_cache_dir());
        // REST_MODULE=component runs the whole suite against REST's component build.
        if let Ok(mode) = std::env::var("REST_MODULE") {
            cmd.env("REST_MODULE", mode);
            cmd.env(
                "REST_COMPONENT_PATH",
                std::env::var("REST_COMPONENT_PATH")
                    .unwrap_or_else(|_| guest_component("rectus_rest").display().to_string()),
            );
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("rectus binary starts");
        let server = Server {
            url: format!("http://127.0.0.1:{port}"),
            port,
            child,
            client: reqwest::Client::new(),
            token: Some(ADMIN_TOKEN.to_string()),
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = self
                .client
                .get(format!("{}/server/ping", self.url))
                .send()
                .await
            {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("rectus did not answer /server/ping within 30 s");
    }

    /// The same server, calling with another token (or none).
    pub fn as_token(&self, token: Option<&str>) -> Client<'_> {
        Client {
            server: self,
            token: token.map(str::to_string),
        }
    }

    pub fn admin(&self) -> Client<'_> {
        self.as_token(Some(ADMIN_TOKEN))
    }

    pub fn anonymous(&self) -> Client<'_> {
        self.as_token(None)
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.admin().get(path).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.admin().post(path, body).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.admin().patch(path, body).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.admin().delete(path).await
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        self.child.wait().expect("rectus exits")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub struct Client<'a> {
    server: &'a Server,
    token: Option<String>,
}

/// A response: status and body (JSON when it parses, else a JSON string of the text).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
    /// `errors[0].extensions.code`.
    pub fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("")
    }
    pub fn message(&self) -> &str {
        self.body["errors"][0]["message"].as_str().unwrap_or("")
    }
    /// Asserts a Directus error envelope with this status and code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "status; body: {}", self.body);
        assert_eq!(self.code(), code, "code; body: {}", self.body);
        assert!(
            self.body["errors"][0]["message"].is_string(),
            "message; body: {}",
            self.body
        );
    }
    #[track_caller]
    pub fn assert_ok(&self) -> &Value {
        assert!(
            (200..300).contains(&self.status),
            "expected success, got {}: {}",
            self.status,
            self.body
        );
        &self.body["data"]
    }
}

impl Client<'_> {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Resp {
        let mut req = self
            .server
            .client
            .request(method, format!("{}{}", self.server.url, path));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp {
            status,
            body,
            headers,
        }
    }

    /// Sends a raw body with a content type (for malformed-JSON tests).
    pub async fn send_raw(&self, method: &str, path: &str, content_type: &str, body: &str) -> Resp {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .server
            .client
            .request(method, format!("{}{}", self.server.url, path))
            .header("content-type", content_type)
            .body(body.to_string());
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp {
            status,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(reqwest::Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

/// Declares one test per database: `on_every_db!(name, async_fn)` makes
/// `name::sqlite`, `name::postgres`, `name::mysql`, each skipped when its database is not
/// in `RECTUS_TEST_DBS`.
#[macro_export]
macro_rules! on_every_db {
    ($name:ident, $body:ident) => {
        mod $name {
            use $crate::harness::Kind;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if Kind::Sqlite.enabled() {
                    super::$body(Kind::Sqlite).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if Kind::Postgres.enabled() {
                    super::$body(Kind::Postgres).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                if Kind::MySql.enabled() {
                    super::$body(Kind::MySql).await
                }
            }
        }
    };
}

/// Raw-SQL checks of what the database itself holds (not what the API says).
impl TestDb {
    /// Runs one raw statement, returning the database's error instead of panicking.
    pub async fn try_exec(&self, sql: &str) -> Result<u64, String> {
        let db = self.connect().await;
        let r = db.execute_raw(sql).await.map_err(|e| e.to_string());
        db.close().await;
        r
    }

    /// Whether a table of this name exists in the test database.
    pub async fn table_exists(&self, table: &str) -> bool {
        let sql = match self.kind {
            Kind::Sqlite => format!(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name = '{table}'"
            ),
            Kind::Postgres => format!(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '{table}'"
            ),
            Kind::MySql => format!(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}'"
            ),
        };
        !self.query(&sql).await.is_empty()
    }

    /// `(column, nullable)` of a table in column order, from the catalogue.
    pub async fn columns(&self, table: &str) -> Vec<(String, bool)> {
        let sql = match self.kind {
            Kind::Sqlite => format!(
                "SELECT name, CASE WHEN \"notnull\" = 0 THEN 'YES' ELSE 'NO' END AS nullable FROM pragma_table_info('{table}') ORDER BY cid"
            ),
            Kind::Postgres => format!(
                "SELECT column_name AS name, is_nullable AS nullable FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{table}' ORDER BY ordinal_position"
            ),
            Kind::MySql => format!(
                "SELECT COLUMN_NAME AS name, IS_NULLABLE AS nullable FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}' ORDER BY ORDINAL_POSITION"
            ),
        };
        self.query(&sql)
            .await
            .into_iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap_or_default().to_string(),
                    r["nullable"].as_str() == Some("YES"),
                )
            })
            .collect()
    }

    /// The column names of a table.
    pub async fn column_names(&self, table: &str) -> Vec<String> {
        self.columns(table).await.into_iter().map(|c| c.0).collect()
    }

    /// A single number from a query such as `SELECT COUNT(*) AS n …`.
    pub async fn count(&self, sql: &str) -> i64 {
        let rows = self.query(sql).await;
        let v = rows
            .first()
            .and_then(|r| r.values().next().cloned())
            .unwrap_or(Value::Null);
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or_else(|| panic!("{sql}: not a number: {v}"))
    }
}

/// What a finished `rectus` command printed, and how it exited.
#[derive(Debug)]
pub struct CliOutput {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `rectus ARGS…` against `db` (its environment only, no `.env` file) and waits for
/// it to finish.
pub fn run_cli(db: &TestDb, args: &[&str]) -> CliOutput {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CONFIG_PATH", "/nonexistent/.env")
        .env("LOG_LEVEL", "warn");
    for (k, v) in db.env() {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("rectus binary runs");
    CliOutput {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A TCP forwarder between `rectus` and a database, which a test can cut and restore to
/// simulate the database going away — without disturbing the real server other tests use.
pub struct Proxy {
    pub port: u16,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
    links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: &str) -> Proxy {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>> =
            Default::default();
        let target = target.to_string();
        let (open2, links2) = (open.clone(), links.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !open2.load(Ordering::SeqCst) {
                    continue; // dropped: the "database" refuses
                }
                let target = target.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                links2.lock().unwrap().push(link);
            }
        });
        Proxy {
            port,
            open,
            links,
            accept,
        }
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.open.store(false, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    pub fn restore(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}
