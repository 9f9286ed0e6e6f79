//! The Rhai runtime: a `.rhai` script becomes [`Hooks`].
//!
//! Loading runs the script's top level once; the script registers its handlers through
//! the host API:
//!
//! ```rhai
//! // Filter: runs before the write; return the payload (changed or not) or nothing to
//! // keep it; `throw` rejects the write with that message (400 to the client).
//! filter("orders.items.create", |payload, meta| {
//!     if (payload.amount ?? 0) < 0 { throw "An order can't have a negative amount."; }
//!     payload
//! });
//! // Action: runs after commit; its errors are only logged.
//! action("items.create", |meta| log(`new ${meta.collection}: ${meta.keys}`));
//! // Flow operation (kind "operation"): options and the data chain in, a value out
//! // (`throw` takes the reject path).
//! operation("double", "Double", |options, data| data.n * 2);
//! ```
//!
//! Handlers are closures or `Fn("name")` pointers to named functions. `meta` is a map:
//! `event`, `collection`, `keys`, `user` (and `payload` for actions). `log(value)` needs
//! the `log` capability in the manifest; `print`/`debug` go to the host's log too.
//!
//! Items, inside handlers, as the WIT `items` interface offers them to components (the
//! same capability checks, under the writer's accountability): `items_read(collection,
//! query_string)` → array, `items_read_one(collection, key)` → map, `items_create(collection,
//! payload)` → keys, `items_update(collection, keys, data)` → keys, `items_delete(collection,
//! keys)`. A refused or failing call throws the host's message.
//!
//! Sandbox: a fresh `Engine` per extension, with no file, module or time access, an
//! operation budget, call-depth, expression-depth, string, array and map size limits, and
//! a wall-clock deadline per call (checked from `on_progress`), so a looping or runaway
//! script fails that one call with a clear error and the host keeps serving.

use super::host_api::GuestHost;
use super::{ActionFn, FilterFn, Hooks, Limits};
use crate::events::{ActionEvent, FilterEvent, Rejection};
use rhai::{Dynamic, Engine, EvalAltResult, FnPtr, Map};
use serde_json::Value as Json;
use std::cell::{Cell, RefCell};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Operations one call may run before it is stopped, whatever the clock says: a
/// deterministic backstop to the deadline.
const MAX_OPERATIONS: u64 = 200_000_000;
const MAX_CALL_LEVELS: usize = 32;
const MAX_EXPR_DEPTH: usize = 64;
const MAX_FN_EXPR_DEPTH: usize = 32;
const MAX_STRING: usize = 1024 * 1024;
const MAX_ARRAY: usize = 100_000;
const MAX_MAP: usize = 10_000;
/// How many operations pass between two looks at the clock.
const CLOCK_EVERY: u64 = 256;

thread_local! {
    /// The deadline of the call running on this thread. Each call runs on one blocking
    /// thread from start to end, so a thread-local lets one shared engine enforce a
    /// deadline per call.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Makes the host API of a handler call: given the caller (a flow's; for hooks the
/// writer of the event), the host its items calls go through, within the extension's
/// grants.
pub type HostFactory = Arc<dyn Fn(rectus_sdk::Context) -> GuestHost + Send + Sync>;

/// The host of a hook call: acts for the writer of the event.
fn writer_host(make: &HostFactory, user: Option<String>) -> GuestHost {
    make(super::wasm::event_context(user)).for_writer()
}

thread_local! {
    /// The host of the handler call running on this thread (none while loading).
    static HOST: RefCell<Option<GuestHost>> = const { RefCell::new(None) };
}

/// Sets this thread's host for the duration of `f`.
fn with_host<T>(host: Option<GuestHost>, f: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            HOST.with(|h| h.borrow_mut().take());
        }
    }
    HOST.with(|h| *h.borrow_mut() = host);
    let _reset = Reset;
    f()
}

type Call<T> = Result<T, Box<EvalAltResult>>;

/// Runs `f` with the current handler's host; an error becomes the script's exception.
fn host_call<T>(f: impl FnOnce(&GuestHost) -> Result<T, rectus_sdk::HostError>) -> Call<T> {
    let host = HOST.with(|h| h.borrow().clone());
    let Some(host) = host else {
        return Err("items are available inside handlers only".into());
    };
    f(&host).map_err(|e| e.message.into())
}

fn to_json(value: Dynamic) -> Call<Json> {
    rhai::serde::from_dynamic(&value)
}

fn to_dynamic(value: &Json) -> Call<Dynamic> {
    rhai::serde::to_dynamic(value)
}

fn keys_of(keys: Dynamic) -> Call<Vec<Json>> {
    match to_json(keys)? {
        Json::Array(keys) => Ok(keys),
        other => Ok(vec![other]),
    }
}

fn register_items(engine: &mut Engine) {
    use rectus_sdk::{QueryInput, Target};
    engine.register_fn(
        "items_read",
        |collection: &str, query: &str| -> Call<Dynamic> {
            let page = host_call(|h| h.read_items(collection, QueryInput::String(query.into())))?;
            let rows: Json = serde_json::from_str(&page.data).map_err(|e| e.to_string())?;
            to_dynamic(&rows)
        },
    );
    engine.register_fn(
        "items_read_one",
        |collection: &str, key: Dynamic| -> Call<Dynamic> {
            let key = key.to_string();
            let item =
                host_call(|h| h.read_item(collection, &key, QueryInput::String(String::new())))?;
            to_dynamic(&serde_json::from_str(&item).map_err(|e| e.to_string())?)
        },
    );
    engine.register_fn(
        "items_create",
        |collection: &str, payload: Dynamic| -> Call<Dynamic> {
            let payload = to_json(payload)?;
            let keys = host_call(|h| h.create_items(collection, payload))?;
            to_dynamic(&Json::Array(keys))
        },
    );
    engine.register_fn(
        "items_update",
        |collection: &str, keys: Dynamic, data: Dynamic| -> Call<Dynamic> {
            let (keys, data) = (keys_of(keys)?, to_json(data)?);
            let keys = host_call(|h| h.update_items(collection, Target::Keys(keys), data))?;
            to_dynamic(&Json::Array(keys))
        },
    );
    engine.register_fn(
        "items_delete",
        |collection: &str, keys: Dynamic| -> Call<()> {
            let keys = keys_of(keys)?;
            host_call(|h| h.delete_items(collection, Target::Keys(keys)))
        },
    );
}

/// Sets this thread's deadline for the duration of `f`.
fn with_deadline<T>(limits: Limits, f: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            DEADLINE.with(|d| d.set(None));
        }
    }
    DEADLINE.with(|d| d.set(Some(Instant::now() + limits.timeout)));
    let _reset = Reset;
    f()
}

/// Why a call failed, in the words the client or the log gets.
enum Failure {
    /// The script threw: its value is the message.
    Thrown(String),
    TimedOut,
    Other(String),
}

fn failure(err: &EvalAltResult) -> Failure {
    match err {
        EvalAltResult::ErrorRuntime(value, _) => Failure::Thrown(value.to_string()),
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _) => failure(inner),
        EvalAltResult::ErrorTerminated(..) => Failure::TimedOut,
        other => Failure::Other(other.to_string()),
    }
}

fn describe(id: &str, limits: Limits, err: &EvalAltResult) -> String {
    match failure(err) {
        Failure::Thrown(m) => m,
        Failure::TimedOut => format!(
            "Extension \"{id}\" timed out after {} ms.",
            limits.timeout.as_millis()
        ),
        Failure::Other(m) => format!("Extension \"{id}\" failed: {m}"),
    }
}

/// Handlers a script registered while its top level ran. Sealed once loading is done:
/// registering from inside a handler is an error, not a list that grows per event.
#[derive(Default)]
struct Registered {
    filters: Vec<(String, FnPtr)>,
    actions: Vec<(String, FnPtr)>,
    /// `operation(id, name, handler)`: flow operations.
    operations: Vec<(String, String, FnPtr)>,
    sealed: bool,
}

type Registration = Result<(), Box<EvalAltResult>>;

fn register(
    registered: &Mutex<Registered>,
    event: &str,
    handler: FnPtr,
    action: bool,
) -> Registration {
    let mut r = registered.lock().expect("registrations");
    if r.sealed {
        return Err("filter() and action() can only be called from the script's top level".into());
    }
    let list = if action {
        &mut r.actions
    } else {
        &mut r.filters
    };
    list.push((event.to_string(), handler));
    Ok(())
}

fn engine(id: &str, capabilities: &[String], registered: Arc<Mutex<Registered>>) -> Engine {
    let mut engine = Engine::new();
    engine
        .set_max_operations(MAX_OPERATIONS)
        .set_max_call_levels(MAX_CALL_LEVELS)
        .set_max_expr_depths(MAX_EXPR_DEPTH, MAX_FN_EXPR_DEPTH)
        .set_max_string_size(MAX_STRING)
        .set_max_array_size(MAX_ARRAY)
        .set_max_map_size(MAX_MAP);
    engine.on_progress(|ops| {
        if ops % CLOCK_EVERY != 0 {
            return None;
        }
        let late = DEADLINE
            .with(|d| d.get())
            .is_some_and(|d| Instant::now() >= d);
        late.then(|| Dynamic::from("deadline"))
    });
    let who = id.to_string();
    engine.on_print(move |text| tracing::info!(extension = %who, "{text}"));
    let who = id.to_string();
    engine.on_debug(move |text, _, pos| tracing::debug!(extension = %who, %pos, "{text}"));
    if capabilities.iter().any(|c| c == "log") {
        let who = id.to_string();
        engine.register_fn(
            "log",
            move |value: Dynamic| tracing::info!(extension = %who, "{value}"),
        );
    }
    register_items(&mut engine);
    let r = registered.clone();
    engine.register_fn(
        "filter",
        move |event: &str, handler: FnPtr| -> Registration { register(&r, event, handler, false) },
    );
    let r = registered.clone();
    engine.register_fn(
        "action",
        move |event: &str, handler: FnPtr| -> Registration { register(&r, event, handler, true) },
    );
    let r = registered;
    engine.register_fn(
        "operation",
        move |id: &str, name: &str, handler: FnPtr| -> Registration {
            let mut r = r.lock().expect("registrations");
            if r.sealed {
                return Err("operation() can only be called from the script's top level".into());
            }
            if id.is_empty() {
                return Err("an operation needs an id".into());
            }
            r.operations
                .push((id.to_string(), name.to_string(), handler));
            Ok(())
        },
    );
    engine
}

fn meta(name: &str, collection: &str, keys: &[Json], user: Option<&str>) -> Map {
    let mut m = Map::new();
    m.insert("event".into(), name.into());
    m.insert("collection".into(), collection.into());
    m.insert(
        "keys".into(),
        rhai::serde::to_dynamic(keys).unwrap_or(Dynamic::UNIT),
    );
    m.insert(
        "user".into(),
        user.map(|u| Dynamic::from(u.to_string()))
            .unwrap_or(Dynamic::UNIT),
    );
    m
}

/// Compiles and runs the script's top level (blocking: call it on the blocking pool),
/// returning the handlers it registered, or a message saying why it can't load (a syntax
/// error with its position, a failing or looping top level, an unknown event name).
pub fn load(
    id: &str,
    source: &str,
    capabilities: &[String],
    limits: Limits,
    host: Option<HostFactory>,
) -> Result<Hooks, String> {
    let registered = Arc::new(Mutex::new(Registered::default()));
    let engine = engine(id, capabilities, registered.clone());
    let ast = engine
        .compile(source)
        .map_err(|e| format!("syntax error: {e}"))?;
    with_deadline(limits, || engine.run_ast(&ast)).map_err(|e| {
        format!(
            "the script failed while loading: {}",
            describe(id, limits, &e)
        )
    })?;
    let registered = {
        let mut r = registered.lock().expect("registrations");
        r.sealed = true;
        Registered {
            filters: std::mem::take(&mut r.filters),
            actions: std::mem::take(&mut r.actions),
            operations: std::mem::take(&mut r.operations),
            sealed: true,
        }
    };
    for (event, _) in registered.filters.iter().chain(&registered.actions) {
        if !valid_event(event) {
            return Err(format!(
                "unknown event \"{event}\" (expected items.create|update|delete or <collection>.items.create|update|delete)"
            ));
        }
    }
    let engine = Arc::new(engine);
    let ast = Arc::new(ast);
    let id: Arc<str> = Arc::from(id);
    let mut hooks = Hooks::default();
    for (event, handler) in registered.filters {
        let (engine, ast, id, host) = (engine.clone(), ast.clone(), id.clone(), host.clone());
        let f: FilterFn = Arc::new(move |e: FilterEvent| {
            let host = host.as_ref().map(|make| writer_host(make, e.user.clone()));
            let reject = Rejection::new;
            let payload = rhai::serde::to_dynamic(&e.payload).map_err(|x| reject(x.to_string()))?;
            let meta = meta(&e.name, &e.collection, &e.keys, e.user.as_deref());
            let out: Dynamic = with_host(host, || {
                with_deadline(limits, || handler.call(&engine, &ast, (payload, meta)))
            })
            .map_err(|err| reject(describe(&id, limits, &err)))?;
            if out.is_unit() {
                return Ok(e.payload);
            }
            let out: Json = rhai::serde::from_dynamic(&out).map_err(|x| {
                reject(format!(
                    "Extension \"{id}\" returned a value that isn't JSON: {x}"
                ))
            })?;
            if out.is_object() != e.payload.is_object() || out.is_array() != e.payload.is_array() {
                return Err(reject(format!(
                    "Extension \"{id}\"'s filter must return the payload (or nothing), not {out}"
                )));
            }
            Ok(out)
        });
        hooks.filters.push((event, f));
    }
    for (event, handler) in registered.actions {
        let (engine, ast, id, host) = (engine.clone(), ast.clone(), id.clone(), host.clone());
        let f: ActionFn = Arc::new(move |e: ActionEvent| {
            let host = host.as_ref().map(|make| writer_host(make, e.user.clone()));
            let mut meta = meta(&e.name, &e.collection, &e.keys, e.user.as_deref());
            meta.insert(
                "payload".into(),
                rhai::serde::to_dynamic(&e.payload).unwrap_or(Dynamic::UNIT),
            );
            with_host(host, || {
                with_deadline(limits, || handler.call::<Dynamic>(&engine, &ast, (meta,)))
            })
            .map(|_| ())
            .map_err(|err| describe(&id, limits, &err))
        });
        hooks.actions.push((event, f));
    }
    for (op_id, name, handler) in registered.operations {
        let (engine, ast, id, host) = (engine.clone(), ast.clone(), id.clone(), host.clone());
        let info = rectus_sdk::OperationInfo {
            id: op_id,
            name,
            description: String::new(),
            options: Json::Object(Default::default()),
        };
        let f: super::OperationFn = Arc::new(move |ctx, options, data| {
            let failed =
                |message: String| rectus_sdk::HostError::new(500, "INTERNAL_SERVER_ERROR", message);
            let host = host.as_ref().map(|make| make(ctx));
            let options = rhai::serde::to_dynamic(&options).map_err(|e| failed(e.to_string()))?;
            let data = rhai::serde::to_dynamic(&data).map_err(|e| failed(e.to_string()))?;
            let out: Dynamic = with_host(host, || {
                with_deadline(limits, || handler.call(&engine, &ast, (options, data)))
            })
            .map_err(|err| match failure(&err) {
                // A thrown message takes the operation's reject path as it is.
                Failure::Thrown(m) => rectus_sdk::HostError::new(400, "FAILED_VALIDATION", m),
                _ => failed(describe(&id, limits, &err)),
            })?;
            rhai::serde::from_dynamic(&out).map_err(|e| {
                failed(format!(
                    "Extension \"{id}\" returned a value that isn't JSON: {e}"
                ))
            })
        });
        hooks.operations.push((info, f));
    }
    Ok(hooks)
}

/// `items.<op>` or `<collection>.items.<op>`: the events the bus emits.
fn valid_event(event: &str) -> bool {
    let op = |s: &str| matches!(s, "create" | "update" | "delete");
    match event.rsplit_once(".items.") {
        Some((collection, o)) => !collection.is_empty() && op(o),
        None => event.strip_prefix("items.").is_some_and(op),
    }
}

/// The flows' "run script" operation: compiles `code` in a fresh sandboxed engine (the
/// same limits and deadline as hooks; `print`/`debug` go to the log), calls its
/// `fn main(data)` with the data chain, and returns the result as JSON. A `throw` is the
/// error message. Blocking: call it on the blocking pool.
pub fn run_main(code: &str, data: &Json, limits: Limits) -> Result<Json, String> {
    let engine = engine(
        "flow",
        &[],
        Arc::new(Mutex::new(Registered {
            sealed: true,
            ..Default::default()
        })),
    );
    let ast = engine
        .compile(code)
        .map_err(|e| format!("syntax error: {e}"))?;
    if !ast
        .iter_functions()
        .any(|f| f.name == "main" && f.params.len() == 1)
    {
        return Err("the script must define fn main(data)".into());
    }
    let data = rhai::serde::to_dynamic(data).map_err(|e| e.to_string())?;
    let out: Dynamic = with_deadline(limits, || {
        engine.call_fn(&mut rhai::Scope::new(), &ast, "main", (data,))
    })
    .map_err(|e| match failure(&e) {
        Failure::Thrown(m) => m,
        Failure::TimedOut => format!(
            "The script timed out after {} ms.",
            limits.timeout.as_millis()
        ),
        Failure::Other(m) => format!("The script failed: {m}"),
    })?;
    rhai::serde::from_dynamic(&out)
        .map_err(|e| format!("the script returned a value that isn't JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    const LIMITS: Limits = Limits {
        timeout: Duration::from_millis(200),
    };

    fn event(payload: Json) -> FilterEvent {
        FilterEvent {
            name: "orders.items.create".into(),
            collection: "orders".into(),
            payload,
            keys: vec![],
            user: None,
        }
    }

    #[test]
    fn filters_change_keep_or_reject() {
        let hooks = load(
            "t",
            r#"
            filter("orders.items.create", |payload, meta| {
                if (payload.amount ?? 0) < 0 { throw "An order can't have a negative amount."; }
                payload.note = meta.collection;
                payload
            });
            fn keep(payload, meta) { }
            filter("items.update", Fn("keep"));
            "#,
            &[],
            LIMITS,
            None,
        )
        .unwrap();
        assert_eq!(hooks.filters.len(), 2);
        let (name, check) = &hooks.filters[0];
        assert_eq!(name, "orders.items.create");
        assert_eq!(
            check(event(json!({"amount": 5.5}))).unwrap(),
            json!({"amount": 5.5, "note": "orders"})
        );
        assert_eq!(
            check(event(json!({"amount": -5}))).unwrap_err().message,
            "An order can't have a negative amount."
        );
        assert_eq!(
            hooks.filters[1].1(event(json!({"x": 1}))).unwrap(),
            json!({"x": 1}),
            "returning nothing keeps the payload"
        );
    }

    #[test]
    fn a_looping_call_times_out_and_the_next_call_runs() {
        let hooks = load(
            "spin",
            r#"filter("items.create", |p, m| { if p.spin { loop {} } p });"#,
            &[],
            LIMITS,
            None,
        )
        .unwrap();
        let started = Instant::now();
        let err = hooks.filters[0].1(event(json!({"spin": true}))).unwrap_err();
        assert_eq!(err.message, "Extension \"spin\" timed out after 200 ms.");
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(hooks.filters[0].1(event(json!({"spin": false}))).is_ok());
    }

    #[test]
    fn bad_scripts_do_not_load() {
        let err = load(
            "t",
            "filter(\"items.create\", |p, m| { p ",
            &[],
            LIMITS,
            None,
        )
        .unwrap_err();
        assert!(err.starts_with("syntax error"), "{err}");
        let err = load("t", "loop {}", &[], LIMITS, None).unwrap_err();
        assert!(err.contains("timed out"), "{err}");
        let err = load(
            "t",
            r#"filter("items.upsert", |p, m| p);"#,
            &[],
            LIMITS,
            None,
        )
        .unwrap_err();
        assert!(err.contains("unknown event"), "{err}");
        // `log` is a capability: without it the function does not exist.
        let hooks = load(
            "t",
            r#"action("items.create", |m| log("x"));"#,
            &[],
            LIMITS,
            None,
        )
        .unwrap();
        let e = ActionEvent {
            name: "items.create".into(),
            collection: "orders".into(),
            payload: json!({}),
            keys: vec![json!(1)],
            user: None,
            depth: 0,
        };
        assert!(hooks.actions[0].1(e.clone()).unwrap_err().contains("log"));
        let hooks = load(
            "t",
            r#"action("items.create", |m| log(m.keys[0]));"#,
            &["log".into()],
            LIMITS,
            None,
        )
        .unwrap();
        assert!(hooks.actions[0].1(e).is_ok());
    }

    #[test]
    fn operations_run_with_options_and_data() {
        let hooks = load(
            "t",
            r#"operation("double", "Double", |options, data| {
                if data.n < 0 { throw "negative"; }
                #{ n: data.n * options.factor }
            });"#,
            &[],
            LIMITS,
            None,
        )
        .unwrap();
        let (info, run) = &hooks.operations[0];
        assert_eq!((info.id.as_str(), info.name.as_str()), ("double", "Double"));
        let ctx = crate::runtime::wasm::event_context(None);
        let out = run(ctx.clone(), json!({"factor": 3}), json!({"n": 2})).unwrap();
        assert_eq!(out, json!({"n": 6}));
        let e = run(ctx, json!({"factor": 3}), json!({"n": -1})).unwrap_err();
        assert_eq!((e.status, e.message.as_str()), (400, "negative"));
    }

    #[test]
    fn handlers_register_only_while_loading() {
        let hooks = load(
            "t",
            r#"filter("items.create", |p, m| { filter("items.create", |p, m| p); p });"#,
            &[],
            LIMITS,
            None,
        )
        .unwrap();
        let err = hooks.filters[0].1(event(json!({}))).unwrap_err();
        assert!(err.message.contains("top level"), "{}", err.message);
    }

    #[test]
    fn sizes_are_limited() {
        let hooks = load(
            "t",
            r#"filter("items.create", |p, m| { let s = "x"; loop { s += s; } });"#,
            &[],
            LIMITS,
            None,
        )
        .unwrap();
        let err = hooks.filters[0].1(event(json!({}))).unwrap_err();
        assert!(err.message.contains("failed"), "{}", err.message);
    }

    #[test]
    fn run_main_returns_json_and_stops_runaways() {
        let out = run_main(
            "fn main(data) { #{ total: data.a + 1, name: `${data.n}!` } }",
            &json!({"a": 41, "n": "x"}),
            LIMITS,
        )
        .unwrap();
        assert_eq!(out, json!({"total": 42, "name": "x!"}));
        assert_eq!(
            run_main("fn main(d) { throw \"nope\" }", &json!({}), LIMITS).unwrap_err(),
            "nope"
        );
        assert!(run_main("fn main(d) { loop {} }", &json!({}), LIMITS)
            .unwrap_err()
            .contains("timed out"));
        assert!(run_main("let x = 1;", &json!({}), LIMITS)
            .unwrap_err()
            .contains("fn main"));
    }
}
