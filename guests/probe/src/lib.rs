//! A test extension for the host's black-box tests (`tests/blackbox/wasm_*.rs`): one
//! component that is an endpoint, a hook and an operation, and that misbehaves on
//! request — loops forever, allocates without bound, traps, answers malformed data — so
//! the tests can check that the host stops it and keeps serving.
//!
//! Endpoint, `/<id>/<what>/…`:
//! - `whoami` → the caller the host gave it;
//! - `items/<collection>` → reads through the `items` capability (query string passed on);
//! - `create/<collection>` → creates the body through `items`;
//! - `env/<KEY>`, `cache/<key>` (PUT sets the body, GET reads);
//! - `loop`, `alloc`, `trap`, `malformed` (status 42), `slow/<ms>` (busy for that long);
//! - `fs`, `net`, `environ`: what the sandbox lets it see of files, sockets, environment.
//!
//! Hook: filter and action on `probe_orders.items.create`: a negative `amount` is refused,
//! `note: "malformed"` answers non-JSON, `note: "loop"` loops, anything else gets
//! `note: "probed"`; the action writes `{"order": <key>}` to `probe_log`.
//!
//! Operation `probe-op`: `{"do": "loop"|"alloc"|"trap"}` misbehave, `{"read": c}` reads,
//! anything else answers `{"options": …, "sum": data.a + data.b}`.

use rectus_sdk::component::bindings::rectus::extension::{cache, env, items, log, types};
use rectus_sdk::{
    Context, Endpoint, Host, HostError, Operation, OperationInfo, QueryInput, Request, Response,
};
use serde_json::{json, Value as Json};

fn ok(data: Json) -> Response {
    Response::data_raw(&data.to_string(), None)
}

fn spin_forever() -> ! {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

fn allocate_forever() -> ! {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(std::hint::black_box(vec![1u8; 1 << 20]));
    }
}

fn busy_for(ms: u64) {
    let until = std::time::Instant::now() + std::time::Duration::from_millis(ms);
    while std::time::Instant::now() < until {
        std::hint::spin_loop();
    }
}

#[derive(Default)]
pub struct Probe;

impl Endpoint for Probe {
    fn mounts(&self) -> &'static [&'static str] {
        &[]
    }

    async fn handle<H: Host>(&self, host: &H, ctx: &Context, req: Request) -> Response {
        let seg = |i: usize| req.segments.get(i).map(String::as_str).unwrap_or("");
        let result: Result<Response, HostError> = match seg(0) {
            "whoami" => Ok(ok(json!({"user": ctx.user, "admin": ctx.admin}))),
            "items" => host
                .read_items(ctx, seg(1), QueryInput::String(req.query.clone()))
                .await
                .map(|page| Response::data_raw(&page.data, None)),
            "create" => {
                let body: Json = serde_json::from_slice(&req.body).unwrap_or(Json::Null);
                host.create_items(ctx, seg(1), body)
                    .await
                    .map(|keys| ok(json!(keys)))
            }
            "env" => env::get(seg(1))
                .map(|v| ok(json!(v)))
                .map_err(rectus_sdk::component::host_error),
            "cache" if req.method == "PUT" => {
                let value = String::from_utf8_lossy(&req.body).to_string();
                cache::set(seg(1), &value, Some(60))
                    .map(|()| Response::no_content())
                    .map_err(rectus_sdk::component::host_error)
            }
            "cache" => cache::get(seg(1))
                .map(|v| ok(json!(v)))
                .map_err(rectus_sdk::component::host_error),
            // The sandbox: no files, no sockets, no environment.
            "fs" => Ok(ok(json!(std::fs::read_to_string("/etc/hostname")
                .map(|_| "read".to_string())
                .unwrap_or_else(|e| format!("refused: {e}"))))),
            "net" => Ok(ok(json!(std::net::TcpStream::connect(("127.0.0.1", 5432))
                .map(|_| "connected".to_string())
                .unwrap_or_else(|e| format!("refused: {e}"))))),
            "environ" => Ok(ok(json!(std::env::vars().count()))),
            "loop" => spin_forever(),
            "alloc" => allocate_forever(),
            "trap" => panic!("the probe trapped on purpose"),
            "malformed" => Ok(Response {
                status: 42,
                content_type: "text/plain",
                headers: Vec::new(),
                body: b"not http".to_vec(),
            }),
            "slow" => {
                busy_for(seg(1).parse().unwrap_or(100));
                Ok(ok(json!("done")))
            }
            _ => Err(HostError::route_not_found(&format!("/{}", req.segments.join("/")))),
        };
        result.unwrap_or_else(|e| Response::error(&e))
    }
}

rectus_sdk::export_endpoint!(crate::Probe, "../../wit");

#[derive(Default)]
pub struct ProbeOp;

impl Operation for ProbeOp {
    fn info(&self) -> OperationInfo {
        OperationInfo {
            id: "probe-op".into(),
            name: "Probe".into(),
            description: "Adds data.a and data.b; misbehaves on request.".into(),
            options: json!({"type": "object", "properties": {"do": {"type": "string"}}}),
        }
    }

    async fn run<H: Host>(
        &self,
        host: &H,
        ctx: &Context,
        options: Json,
        data: Json,
    ) -> Result<Json, HostError> {
        match options["do"].as_str() {
            Some("loop") => spin_forever(),
            Some("alloc") => allocate_forever(),
            Some("trap") => panic!("the probe operation trapped on purpose"),
            _ => {}
        }
        if let Some(collection) = options["read"].as_str() {
            let page = host
                .read_items(ctx, collection, QueryInput::String(String::new()))
                .await?;
            return Ok(serde_json::from_str(&page.data).unwrap_or(Json::Null));
        }
        let sum = data["a"].as_f64().unwrap_or(0.0) + data["b"].as_f64().unwrap_or(0.0);
        Ok(json!({"options": options, "sum": sum, "user": ctx.user}))
    }
}

rectus_sdk::export_operation!(crate::ProbeOp, "../../wit");

mod hook {
    rectus_sdk::component::wit_bindgen::generate!({
        path: "../../wit",
        world: "hook",
        runtime_path: "::rectus_sdk::component::wit_bindgen::rt",
        with: {
            "rectus:extension/types@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::types,
            "rectus:extension/items@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::items,
            "rectus:extension/schema@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::schema,
            "rectus:extension/log@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::log,
            "rectus:extension/http@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::http,
            "rectus:extension/cache@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::cache,
            "rectus:extension/env@0.1.0": ::rectus_sdk::component::bindings::rectus::extension::env,
        },
    });

    use super::*;

    struct Hook;

    const EVENT: &str = "probe_orders.items.create";

    impl Guest for Hook {
        fn subscriptions() -> Vec<Subscription> {
            vec![
                Subscription {
                    kind: HookKind::Filter,
                    event: EVENT.into(),
                },
                Subscription {
                    kind: HookKind::Action,
                    event: EVENT.into(),
                },
            ]
        }

        fn filter(_ctx: types::Context, event: Event) -> Result<String, String> {
            let mut payload: Json = serde_json::from_str(&event.payload_json).unwrap_or(Json::Null);
            if payload["amount"].as_f64().is_some_and(|a| a < 0.0) {
                return Err("Probe: negative amounts are refused.".into());
            }
            match payload["note"].as_str() {
                Some("malformed") => return Ok("{not json".into()),
                Some("loop") => spin_forever(),
                _ => {}
            }
            payload["note"] = json!("probed");
            Ok(payload.to_string())
        }

        fn action(_ctx: types::Context, event: Event) -> Result<(), String> {
            let keys: Json = serde_json::from_str(&event.keys_json).unwrap_or(Json::Null);
            log::log(log::Level::Info, &format!("probe saw {} {}", event.name, keys));
            let order = keys.get(0).cloned().unwrap_or(Json::Null);
            items::create_items("probe_log", &json!({"order": order}).to_string())
                .map(|_| ())
                .map_err(|e| e.message)
        }
    }

    export!(Hook);
}
