//! `rectus-bench`: measures the real `rectus` release binary and the `rectus` library.
//!
//! ```sh
//! cargo build --release -p rectus
//! cargo run --release -p rectus-bench -- startup|introspect|memory|all
//! ```
//!
//! Each case prints markdown table rows (`| case | measurement | result | target | met |`).
//! See `bench/README.md` for what each case measures and the numbers measured here.
//!
//! Variables: `RECTUS_BIN` (default `target/release/rectus` in the workspace),
//! `BENCH_RUNS` (runs per timed case; default 20 for `startup`, 10 for `introspect`),
//! `BENCH_PG_URL` (an admin connection for `introspect`; default
//! `postgres://postgres@127.0.0.1:5432/postgres`).

use anyhow::{bail, Context, Result};
use rectus::config::DbConfig;
use rectus::db::Db;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

const ADMIN_TOKEN: &str = "bench-admin-token";
const STARTUP_TABLES: usize = 100;
const INTROSPECT_TABLES: usize = 1000;
const INTROSPECT_DB: &str = "rectus_bench_introspect";
const STARTUP_TARGET_MS: f64 = 150.0;
const INTROSPECT_TARGET_MS: f64 = 1000.0;
/// 30 MB, compared in MiB as /proc reports it (30 × 10⁶ bytes = 28.6 MiB).
const MEMORY_TARGET_MIB: f64 = 30.0e6 / 1_048_576.0;
const MEMORY_REQUESTS: usize = 1000;

mod flows;

fn main() -> ExitCode {
    let case = std::env::args().nth(1).unwrap_or_default();
    let cases: Vec<&str> = match case.as_str() {
        "startup" | "introspect" | "memory" | "flows" => vec![case.as_str()],
        "all" => vec!["startup", "introspect", "memory"],
        _ => {
            eprintln!("usage: rectus-bench startup|introspect|memory|flows|all");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rectus-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "# rectus-bench on {} cores, load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("| case | measurement | result | target | met |");
    println!("|---|---|---|---|---|");
    let mut failed = false;
    for case in cases {
        let result = match case {
            "startup" => startup(&rt),
            "introspect" => introspect(&rt),
            "flows" => flows::flows(&rt),
            _ => memory(&rt),
        };
        if let Err(e) = result {
            eprintln!("rectus-bench: {case} failed: {e:#}");
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

// ---- output -----------------------------------------------------------------------------

fn row(case: &str, measurement: &str, result: &str, target: &str, met: Option<bool>) {
    let met = match met {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "–",
    };
    println!("| {case} | {measurement} | {result} | {target} | {met} |");
}

/// min / median / p95 / max of a sample, in milliseconds.
struct Stats {
    min: f64,
    median: f64,
    p95: f64,
    max: f64,
}

fn stats(samples: &[Duration]) -> Stats {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(|a, b| a.total_cmp(b));
    let n = ms.len();
    let median = if n % 2 == 1 {
        ms[n / 2]
    } else {
        (ms[n / 2 - 1] + ms[n / 2]) / 2.0
    };
    // Nearest-rank percentile.
    let p95 = ms[((0.95 * n as f64).ceil() as usize).clamp(1, n) - 1];
    Stats {
        min: ms[0],
        median,
        p95,
        max: ms[n - 1],
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "min {:.1} / median {:.1} / p95 {:.1} / max {:.1} ms",
            self.min, self.median, self.p95, self.max
        )
    }
}

fn runs(default: usize) -> Result<usize> {
    match std::env::var("BENCH_RUNS") {
        Ok(v) => {
            let n: usize = v.parse().context("BENCH_RUNS must be a whole number")?;
            if n == 0 {
                bail!("BENCH_RUNS must be at least 1");
            }
            Ok(n)
        }
        Err(_) => Ok(default),
    }
}

// ---- the rectus process -----------------------------------------------------------------

fn rectus_bin() -> Result<PathBuf> {
    let path = match std::env::var_os("RECTUS_BIN") {
        Some(p) => PathBuf::from(p),
        None => {
            let root = Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .context("workspace root")?;
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join("target"));
            target.join("release").join("rectus")
        }
    };
    if !path.is_file() {
        bail!(
            "{} not found: build it first with `cargo build --release -p rectus` (or set RECTUS_BIN)",
            path.display()
        );
    }
    Ok(path)
}

/// A fresh, empty scratch folder under the system temp dir.
fn scratch(name: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("rectus-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// `rectus start` on a SQLite file, with a fixed admin so nothing is generated or printed.
fn spawn_rectus(bin: &Path, db_file: &Path, port: u16) -> Result<Child> {
    Command::new(bin)
        .arg("start")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CONFIG_PATH", "/nonexistent/.env")
        .env("DB_CLIENT", "sqlite")
        .env("DB_FILENAME", db_file)
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("ADMIN_EMAIL", "admin@example.com")
        .env("ADMIN_PASSWORD", "bench-password")
        .env("ADMIN_TOKEN", ADMIN_TOKEN)
        .env("SECRET", "bench-secret")
        .env("LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("spawning {}", bin.display()))
}

/// One HTTP/1.1 GET with `Connection: close`: the status and the body.
fn http_get(port: u16, path: &str, token: Option<&str>) -> Option<(u16, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let text = String::from_utf8_lossy(&response);
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string());
    Some((status, body))
}

/// Polls `/server/ping` every millisecond until it answers 200; returns the time since
/// `since`. Fails if the process exits or 30 s pass.
fn wait_ready(child: &mut Child, port: u16, since: Instant) -> Result<Duration> {
    loop {
        if let Some((200, _)) = http_get(port, "/server/ping", None) {
            return Ok(since.elapsed());
        }
        if let Some(status) = child.try_wait()? {
            bail!("rectus exited before answering /server/ping: {status}");
        }
        if since.elapsed() > Duration::from_secs(30) {
            bail!("rectus did not answer /server/ping within 30 s");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// SIGTERM, then SIGKILL if it has not exited after 5 s.
fn stop(mut child: Child) -> Result<()> {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if child.try_wait()?.is_some() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill()?;
    child.wait()?;
    Ok(())
}

/// VmRSS and VmHWM of a process, in MiB.
fn rss_mib(pid: u32) -> Result<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> Result<f64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .with_context(|| format!("{name} missing from /proc/{pid}/status"))?;
        let kb: f64 = line
            .split_whitespace()
            .nth(1)
            .context("malformed /proc status line")?
            .parse()?;
        Ok(kb / 1024.0)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

// ---- startup ----------------------------------------------------------------------------

/// 100 user tables of eight columns; every fourth one points at the one before it.
fn sqlite_tables_sql(n: usize) -> String {
    let mut sql = String::new();
    for i in 0..n {
        let parent = if i > 0 && i % 4 == 0 {
            format!("INTEGER REFERENCES t_{:03} (id) ON DELETE SET NULL", i - 1)
        } else {
            "INTEGER".to_string()
        };
        sql.push_str(&format!(
            "CREATE TABLE t_{i:03} (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(255) NOT NULL, \
             status VARCHAR(32) DEFAULT 'draft', amount NUMERIC(10, 2), created_at DATETIME, \
             data TEXT, flag BOOLEAN DEFAULT 0, parent {parent});\n"
        ));
    }
    sql
}

fn create_sqlite_tables(rt: &Runtime, db_file: &Path) -> Result<()> {
    rt.block_on(async {
        let db = Db::connect(
            &DbConfig::Sqlite {
                filename: db_file.to_path_buf(),
            },
            1,
        )
        .await?;
        db.execute_raw(&sqlite_tables_sql(STARTUP_TABLES)).await?;
        db.close().await;
        anyhow::Ok(())
    })
    .context("creating the SQLite tables")
}

fn startup(rt: &Runtime) -> Result<()> {
    let bin = rectus_bin()?;
    let n = runs(20)?;
    let dir = scratch("startup")?;
    let db_file = dir.join("data.db");
    create_sqlite_tables(rt, &db_file)?;

    // First boot: system tables created and the admin's password hashed (argon2).
    let port = free_port()?;
    let t0 = Instant::now();
    let mut child = spawn_rectus(&bin, &db_file, port)?;
    let first = wait_ready(&mut child, port, t0);
    let listed = http_get(port, "/collections", Some(ADMIN_TOKEN));
    stop(child)?;
    let first = first?;
    let user_tables = match listed {
        Some((200, body)) => body.matches("\"collection\":\"t_").count(),
        other => bail!("GET /collections failed: {other:?}"),
    };
    if user_tables != STARTUP_TABLES {
        bail!("/collections listed {user_tables} of the {STARTUP_TABLES} tables");
    }
    row(
        "startup",
        "first boot on a new SQLite file (100 tables; migrations + admin), 1 run",
        &format!("{:.1} ms", first.as_secs_f64() * 1e3),
        "–",
        None,
    );

    // Restarts: the usual case.
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let port = free_port()?;
        let t0 = Instant::now();
        let mut child = spawn_rectus(&bin, &db_file, port)?;
        let ready = wait_ready(&mut child, port, t0);
        stop(child)?;
        samples.push(ready?);
    }
    let s = stats(&samples);
    row(
        "startup",
        &format!("spawn → first 200 from /server/ping, SQLite with 100 tables, {n} runs"),
        &s.to_string(),
        &format!("< {STARTUP_TARGET_MS:.0} ms"),
        Some(s.p95 < STARTUP_TARGET_MS),
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

// ---- introspect -------------------------------------------------------------------------

/// `n` tables of eight columns; every odd-numbered table has a foreign key to the one
/// before it, every tenth a unique column and an index.
fn postgres_tables_sql(range: std::ops::Range<usize>) -> String {
    let mut sql = String::new();
    for i in range {
        let parent = if i % 2 == 1 {
            format!("integer REFERENCES t_{:04} (id) ON DELETE SET NULL", i - 1)
        } else {
            "integer".to_string()
        };
        let unique = if i % 10 == 0 { " UNIQUE" } else { "" };
        sql.push_str(&format!(
            "CREATE TABLE t_{i:04} (id serial PRIMARY KEY, name varchar(255) NOT NULL{unique}, \
             status varchar(32) NOT NULL DEFAULT 'draft', amount numeric(10, 2), \
             created_at timestamptz DEFAULT now(), data jsonb, flag boolean DEFAULT false, \
             parent {parent});\n"
        ));
        if i % 10 == 0 {
            sql.push_str(&format!(
                "CREATE INDEX t_{i:04}_status ON t_{i:04} (status);\n"
            ));
        }
    }
    sql
}

fn with_database(url: &str, database: &str) -> Result<String> {
    let (base, _) = url
        .rsplit_once('/')
        .context("BENCH_PG_URL must end in /<database>")?;
    Ok(format!("{base}/{database}"))
}

fn introspect(rt: &Runtime) -> Result<()> {
    let n = runs(10)?;
    let admin_url = std::env::var("BENCH_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let bench_url = with_database(&admin_url, INTROSPECT_DB)?;
    rt.block_on(async {
        let admin = Db::connect(
            &DbConfig::Postgres {
                url: admin_url.clone(),
            },
            1,
        )
        .await
        .context("connecting to PostgreSQL (BENCH_PG_URL)")?;
        admin
            .execute_raw(&format!(
                "DROP DATABASE IF EXISTS {INTROSPECT_DB} WITH (FORCE)"
            ))
            .await?;
        admin
            .execute_raw(&format!("CREATE DATABASE {INTROSPECT_DB}"))
            .await?;
        let result = introspect_in(&bench_url, n).await;
        admin
            .execute_raw(&format!(
                "DROP DATABASE IF EXISTS {INTROSPECT_DB} WITH (FORCE)"
            ))
            .await?;
        admin.close().await;
        result
    })
}

async fn introspect_in(url: &str, n: usize) -> Result<()> {
    let db = Db::connect(&DbConfig::Postgres { url: url.into() }, 2).await?;
    let created = Instant::now();
    for chunk in 0..INTROSPECT_TABLES.div_ceil(100) {
        let end = ((chunk + 1) * 100).min(INTROSPECT_TABLES);
        db.execute_raw(&postgres_tables_sql(chunk * 100..end))
            .await
            .context("creating the tables")?;
    }
    rectus::system::migrations::run(&db)
        .await
        .context("running the migrations")?;
    eprintln!(
        "# introspect: {INTROSPECT_TABLES} tables created and migrations run in {:.1} s",
        created.elapsed().as_secs_f64()
    );

    // One warm-up load, which also checks that every table was seen.
    let schema = rectus::schema::introspect::load(&db, &[]).await?;
    let user_tables = schema
        .collections
        .keys()
        .filter(|k| k.starts_with("t_"))
        .count();
    if user_tables != INTROSPECT_TABLES {
        bail!("introspection saw {user_tables} of the {INTROSPECT_TABLES} tables");
    }
    let (collections, relations) = (schema.collections.len(), schema.relations.len());

    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        let schema = rectus::schema::introspect::load(&db, &[]).await?;
        samples.push(t0.elapsed());
        drop(schema);
    }
    db.close().await;
    let s = stats(&samples);
    row(
        "introspect",
        &format!(
            "`introspect::load`, PostgreSQL, {INTROSPECT_TABLES} tables × 8 columns \
             ({collections} collections, {relations} relations), {n} runs after 1 warm-up"
        ),
        &s.to_string(),
        &format!("< {INTROSPECT_TARGET_MS:.0} ms"),
        Some(s.p95 < INTROSPECT_TARGET_MS),
    );
    Ok(())
}

// ---- memory -----------------------------------------------------------------------------

fn memory(rt: &Runtime) -> Result<()> {
    let bin = rectus_bin()?;
    let dir = scratch("memory")?;
    let db_file = dir.join("data.db");
    let target = format!("< 30 MB ({MEMORY_TARGET_MIB:.1} MiB)");
    create_sqlite_tables(rt, &db_file)?;

    // First boot on a new file, idle, then load.
    let port = free_port()?;
    let mut child = spawn_rectus(&bin, &db_file, port)?;
    let result = (|| -> Result<()> {
        wait_ready(&mut child, port, Instant::now())?;
        std::thread::sleep(Duration::from_secs(2));
        let (rss, _) = rss_mib(child.id())?;
        row(
            "memory",
            "VmRSS, first boot on a new SQLite file with 100 tables, 2 s idle",
            &format!("{rss:.1} MiB"),
            &target,
            Some(rss < MEMORY_TARGET_MIB),
        );
        let took = rt.block_on(load(port))?;
        let (rss, hwm) = rss_mib(child.id())?;
        row(
            "memory",
            &format!(
                "VmRSS after {MEMORY_REQUESTS} `/server/ping` + {MEMORY_REQUESTS} `/collections` \
                 (admin token, 4 connections, {:.1} s); peak VmHWM {hwm:.1} MiB",
                took.as_secs_f64()
            ),
            &format!("{rss:.1} MiB"),
            &target,
            Some(rss < MEMORY_TARGET_MIB),
        );
        Ok(())
    })();
    stop(child)?;
    result?;

    // Restart on the same file: no admin password to hash.
    let port = free_port()?;
    let mut child = spawn_rectus(&bin, &db_file, port)?;
    let result = (|| -> Result<()> {
        wait_ready(&mut child, port, Instant::now())?;
        std::thread::sleep(Duration::from_secs(2));
        let (rss, _) = rss_mib(child.id())?;
        row(
            "memory",
            "VmRSS, restart on the same file, 2 s idle",
            &format!("{rss:.1} MiB"),
            &target,
            Some(rss < MEMORY_TARGET_MIB),
        );
        Ok(())
    })();
    stop(child)?;
    result?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `MEMORY_REQUESTS` of each path over four keep-alive connections; every answer must be 200.
async fn load(port: u16) -> Result<Duration> {
    let client = reqwest::Client::new();
    let t0 = Instant::now();
    for path in ["/server/ping", "/collections"] {
        let url = format!("http://127.0.0.1:{port}{path}");
        let mut tasks = Vec::new();
        for worker in 0..4 {
            let (client, url) = (client.clone(), url.clone());
            tasks.push(tokio::spawn(async move {
                for _ in (worker..MEMORY_REQUESTS).step_by(4) {
                    let res = client.get(&url).bearer_auth(ADMIN_TOKEN).send().await?;
                    let status = res.status();
                    res.bytes().await?;
                    if !status.is_success() {
                        bail!("GET {url}: {status}");
                    }
                }
                anyhow::Ok(())
            }));
        }
        for task in tasks {
            task.await??;
        }
    }
    Ok(t0.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_use_nearest_rank_p95_and_middle_median() {
        let ms =
            |v: &[u64]| -> Vec<Duration> { v.iter().map(|&n| Duration::from_millis(n)).collect() };
        let s = stats(&ms(&(1..=20).collect::<Vec<_>>()));
        assert_eq!((s.min, s.median, s.p95, s.max), (1.0, 10.5, 19.0, 20.0));
        let s = stats(&ms(&[5, 1, 3]));
        assert_eq!((s.min, s.median, s.p95, s.max), (1.0, 3.0, 5.0, 5.0));
    }

    #[test]
    fn swaps_the_database_in_a_url() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x").unwrap(),
            "postgres://postgres@127.0.0.1:5432/x"
        );
    }
}
