//! The root resolvers: each query or mutation field turns its selection into one Directus
//! query (`plan.rs`) and makes one host call for it (plus the write itself for mutations);
//! nested fields only read from the rows that call returned. Host errors become GraphQL
//! errors carrying Directus's `extensions.code`.
//!
//! Owns: what each root field asks the host. Must not touch: SQL, access rules (the host
//! applies them to every call).

use crate::model::{Collection, Model};
use crate::plan::{self, PlanError};
use crate::shape::{id_value, int_value, json_value, object_of, to_json};
use crate::shared_types::{DeletedMany, DeletedOne, JSON};
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputValue, ResolverContext, TypeRef,
};
use async_graphql::{Error, ErrorExtensions, Value};
use rectus_sdk::{Context, Host, HostError, QueryInput, Target};
use serde_json::{json, Map, Value as Json};
use std::sync::Arc;

/// A host error as a GraphQL error with Directus's code and extensions.
pub fn host_error(e: HostError) -> Error {
    Error::new(e.message.clone()).extend_with(|_, ext| {
        ext.set("code", e.code);
        for (k, v) in &e.extensions {
            ext.set(k.as_str(), json_value(v));
        }
    })
}

pub(crate) fn plan_error(e: PlanError) -> Error {
    host_error(HostError::new(400, "INVALID_QUERY", e.0))
}

fn internal(what: &str) -> Error {
    host_error(HostError::new(
        500,
        "INTERNAL_SERVER_ERROR",
        format!("An unexpected error occurred: {what}."),
    ))
}

/// A resolver error on a nullable field: recorded with the field's path (as Directus
/// reports `"path": ["orders_by_id"]`), the field `null`. async-graphql attaches no path
/// to errors a resolver returns, so nullable root fields record theirs themselves.
fn null_with_error<'a>(
    ctx: &ResolverContext<'a>,
    e: Error,
) -> Result<Option<FieldValue<'a>>, Error> {
    ctx.add_error(ctx.set_error_path(e.into_server_error(ctx.item.pos)));
    Ok(None)
}

fn parse_rows(text: &str) -> Result<Vec<Json>, Error> {
    serde_json::from_str(text).map_err(|_| internal("the host returned malformed items"))
}

/// The host and caller of this request.
fn env<'a, H: Host + 'static>(ctx: &ResolverContext<'a>) -> Result<(&'a H, &'a Context), Error> {
    Ok((ctx.data::<H>()?, ctx.data::<Context>()?))
}

fn collection<'m>(model: &'m Model, name: &str) -> Result<&'m Collection, Error> {
    model
        .get(name)
        .ok_or_else(|| host_error(HostError::forbidden()))
}

/// `<c>(filter, sort, limit, offset, page, search): [<c>!]!`
pub fn list<H: Host + 'static>(model: Arc<Model>, c: &Collection) -> Field {
    let name = c.name.clone();
    Field::new(
        c.gql.clone(),
        TypeRef::named_nn_list_nn(&c.gql),
        move |ctx| {
            let (model, name) = (model.clone(), name.clone());
            FieldFuture::new(async move {
                let (host, caller) = env::<H>(&ctx)?;
                let c = collection(&model, &name)?;
                let query = plan::read_query(&model, c, &ctx.ctx.field()).map_err(plan_error)?;
                let items = host
                    .read_items(caller, &name, QueryInput::Json(query))
                    .await
                    .map_err(host_error)?;
                let rows = parse_rows(&items.data)?;
                Ok(Some(FieldValue::list(
                    rows.into_iter().map(FieldValue::owned_any),
                )))
            })
        },
    )
}

/// A singleton's `<c>: <c>` — its only row, or null before it exists.
pub fn singleton<H: Host + 'static>(model: Arc<Model>, c: &Collection) -> Field {
    let name = c.name.clone();
    Field::new(c.gql.clone(), TypeRef::named(&c.gql), move |ctx| {
        let (model, name) = (model.clone(), name.clone());
        FieldFuture::new(async move {
            let (host, caller) = env::<H>(&ctx)?;
            let c = collection(&model, &name)?;
            let mut query =
                plan::selection_query(&model, c, &ctx.ctx.field()).map_err(plan_error)?;
            query["limit"] = json!(1);
            let items = host
                .read_items(caller, &name, QueryInput::Json(query))
                .await
                .map_err(host_error)?;
            Ok(parse_rows(&items.data)?
                .into_iter()
                .next()
                .map(FieldValue::owned_any))
        })
    })
}

/// `<c>_by_id(id: ID!): <c>` — a missing or unreadable item is `FORBIDDEN`.
pub fn by_id<H: Host + 'static>(model: Arc<Model>, c: &Collection) -> Field {
    let name = c.name.clone();
    Field::new(
        format!("{}_by_id", c.gql),
        TypeRef::named(&c.gql),
        move |ctx| {
            let (model, name) = (model.clone(), name.clone());
            FieldFuture::new(async move {
                let read = async {
                    let (host, caller) = env::<H>(&ctx)?;
                    let c = collection(&model, &name)?;
                    let id = id_argument(&ctx, "id")?;
                    let query =
                        plan::selection_query(&model, c, &ctx.ctx.field()).map_err(plan_error)?;
                    let text = host
                        .read_item(caller, &name, &id, QueryInput::Json(query))
                        .await
                        .map_err(host_error)?;
                    serde_json::from_str::<Json>(&text).map_err(|_| internal("malformed item"))
                };
                match read.await {
                    Ok(row) => Ok((!row.is_null()).then(|| FieldValue::owned_any(row))),
                    Err(e) => null_with_error(&ctx, e),
                }
            })
        },
    )
    .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
}

/// `users_me: users` (system scope): the caller's own user row; null when anonymous.
pub fn users_me<H: Host + 'static>(model: Arc<Model>, users: &Collection) -> Field {
    let name = users.name.clone();
    Field::new("users_me", TypeRef::named(&users.gql), move |ctx| {
        let (model, name) = (model.clone(), name.clone());
        FieldFuture::new(async move {
            let read = async {
                let (host, caller) = env::<H>(&ctx)?;
                let Some(me) = caller.user.clone() else {
                    return Ok(Json::Null);
                };
                let c = collection(&model, &name)?;
                let query =
                    plan::selection_query(&model, c, &ctx.ctx.field()).map_err(plan_error)?;
                let text = host
                    .read_item(caller, &name, &me, QueryInput::Json(query))
                    .await
                    .map_err(host_error)?;
                serde_json::from_str::<Json>(&text).map_err(|_| internal("malformed item"))
            };
            match read.await {
                Ok(row) => Ok((!row.is_null()).then(|| FieldValue::owned_any(row))),
                Err(e) => null_with_error(&ctx, e),
            }
        })
    })
}

/// `server_ping: String` (system scope): `"pong"`.
pub fn server_ping() -> Field {
    Field::new("server_ping", TypeRef::named(TypeRef::STRING), |_| {
        FieldFuture::from_value(Some(Value::from("pong")))
    })
}

fn id_argument(ctx: &ResolverContext<'_>, name: &str) -> Result<String, Error> {
    let v = ctx.args.try_get(name)?;
    Ok(match v.as_value() {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// An aggregated row, with the keys its `groupBy` produced.
struct AggregatedRow {
    row: Json,
    group: Vec<String>,
}

/// The key a `groupBy` entry comes back under (`year(date)` → `date_year`).
fn group_key(g: &str) -> String {
    match g.split_once('(') {
        Some((function, rest)) => format!("{}_{function}", rest.trim_end_matches(')')),
        None => g.to_string(),
    }
}

const AGGREGATES: &[&str] = &[
    "count",
    "countDistinct",
    "avg",
    "sum",
    "avgDistinct",
    "sumDistinct",
    "min",
    "max",
];

/// `<c>_aggregated(groupBy, filter, …): [<c>_aggregated!]!` — one aggregate query.
pub fn aggregated<H: Host + 'static>(model: Arc<Model>, c: &Collection) -> Field {
    let name = c.name.clone();
    let ty = format!("{}_aggregated", c.gql);
    Field::new(ty.clone(), TypeRef::named_nn_list_nn(&ty), move |ctx| {
        let (model, name) = (model.clone(), name.clone());
        FieldFuture::new(async move {
            let (host, caller) = env::<H>(&ctx)?;
            let c = collection(&model, &name)?;
            let field = ctx.ctx.field();
            let mut query = Map::new();
            let args = field.arguments()?;
            plan::put_arguments(&model, c, &args, "", &mut query);
            let mut aggregate = Map::new();
            for sub in field.selection_set() {
                let f = sub.name();
                if f == "countAll" {
                    aggregate.insert("countAll".into(), json!(["*"]));
                } else if AGGREGATES.contains(&f) {
                    let mut fields: Vec<String> = aggregate
                        .get(f)
                        .and_then(|v| serde_json::from_value(v.clone()).ok())
                        .unwrap_or_default();
                    for part in sub.selection_set() {
                        let p = part.name().to_string();
                        if !p.starts_with("__") && !fields.contains(&p) {
                            fields.push(p);
                        }
                    }
                    if !fields.is_empty() {
                        aggregate.insert(f.into(), json!(fields));
                    }
                }
            }
            if aggregate.is_empty() {
                aggregate.insert("countAll".into(), json!(["*"]));
            }
            query.insert("aggregate".into(), Json::Object(aggregate));
            let group: Vec<String> = query
                .get("groupBy")
                .and_then(|g| serde_json::from_value::<Vec<String>>(g.clone()).ok())
                .unwrap_or_default()
                .iter()
                .flat_map(|g| {
                    g.split(',')
                        .map(|s| group_key(s.trim()))
                        .collect::<Vec<_>>()
                })
                .collect();
            let items = host
                .read_items(caller, &name, QueryInput::Json(Json::Object(query)))
                .await
                .map_err(host_error)?;
            let rows = parse_rows(&items.data)?;
            Ok(Some(FieldValue::list(rows.into_iter().map(|row| {
                FieldValue::owned_any(AggregatedRow {
                    row,
                    group: group.clone(),
                })
            }))))
        })
    })
}

/// `group: JSON` — the grouped values of an aggregated row.
pub fn aggregate_group() -> Field {
    Field::new("group", TypeRef::named(JSON), |ctx| {
        FieldFuture::Value(ctx.parent_value.downcast_ref::<AggregatedRow>().map(|a| {
            let group: Map<String, Json> = a
                .group
                .iter()
                .map(|k| (k.clone(), a.row.get(k).cloned().unwrap_or(Json::Null)))
                .collect();
            FieldValue::value(json_value(&Json::Object(group)))
        }))
    })
}

/// `countAll: Int`.
pub fn aggregate_count_all() -> Field {
    Field::new("countAll", TypeRef::named(TypeRef::INT), |ctx| {
        FieldFuture::Value(
            ctx.parent_value
                .downcast_ref::<AggregatedRow>()
                .and_then(|a| a.row.get("countAll"))
                .and_then(int_value)
                .map(|n| FieldValue::value(Value::from(n))),
        )
    })
}

/// `count: <c>_aggregated_count` and the like: the function's object of fields.
pub fn aggregate_object(function: &str, ty: &str) -> Field {
    let function = function.to_string();
    Field::new(function.clone(), TypeRef::named(ty), move |ctx| {
        FieldFuture::Value(
            ctx.parent_value
                .downcast_ref::<AggregatedRow>()
                .and_then(|a| a.row.get(&function))
                .filter(|v| v.is_object())
                .map(|v| FieldValue::borrowed_any(v)),
        )
    })
}

/// One field of an aggregate object: a count (`Int`) or a number (`Float`).
pub fn aggregate_part(name: &str, number: bool) -> Field {
    let key = name.to_string();
    let ty = if number { TypeRef::FLOAT } else { TypeRef::INT };
    Field::new(name, TypeRef::named(ty), move |ctx| {
        let v = object_of(ctx.parent_value).and_then(|(row, _)| row.get(&key));
        FieldFuture::Value(v.and_then(|v| {
            let value = if number {
                match v {
                    Json::Number(n) => n.as_f64().map(Value::from),
                    Json::String(s) => s.parse::<f64>().ok().map(Value::from),
                    _ => None,
                }
            } else {
                int_value(v).map(Value::from)
            };
            value.map(FieldValue::value)
        }))
    })
}

/// The `data` argument as JSON.
fn data_argument(ctx: &ResolverContext<'_>) -> Result<Json, Error> {
    Ok(to_json(ctx.args.try_get("data")?.as_value()))
}

fn ids_argument(ctx: &ResolverContext<'_>) -> Result<Vec<Json>, Error> {
    Ok(match to_json(ctx.args.try_get("ids")?.as_value()) {
        Json::Array(ids) => ids,
        other => vec![other],
    })
}

/// Re-reads written items with the mutation's selection and arguments.
async fn reread_many<H: Host>(
    ctx: &ResolverContext<'_>,
    model: &Model,
    c: &Collection,
    host: &H,
    caller: &Context,
    keys: Vec<Json>,
) -> Result<Option<FieldValue<'static>>, Error> {
    if !c.can_read {
        return Ok(Some(FieldValue::value(Value::Boolean(true))));
    }
    if keys.is_empty() {
        return Ok(Some(FieldValue::list(Vec::<FieldValue>::new())));
    }
    let mut query = plan::read_query(model, c, &ctx.ctx.field()).map_err(plan_error)?;
    let by_key = json!({ c.primary_key.as_str(): { "_in": keys } });
    let filter = match query.get("filter") {
        Some(f) => json!({"_and": [by_key, f]}),
        None => by_key,
    };
    query["filter"] = filter;
    if query.get("limit").is_none() {
        query["limit"] = json!(-1);
    }
    let items = host
        .read_items(caller, &c.name, QueryInput::Json(query))
        .await
        .map_err(host_error)?;
    let rows = parse_rows(&items.data)?;
    Ok(Some(FieldValue::list(
        rows.into_iter().map(FieldValue::owned_any),
    )))
}

async fn reread_one<H: Host>(
    ctx: &ResolverContext<'_>,
    model: &Model,
    c: &Collection,
    host: &H,
    caller: &Context,
    key: Option<Json>,
) -> Result<Option<FieldValue<'static>>, Error> {
    if !c.can_read {
        return Ok(Some(FieldValue::value(Value::Boolean(true))));
    }
    let Some(key) = key else { return Ok(None) };
    let key = match key {
        Json::String(s) => s,
        other => other.to_string(),
    };
    let query = plan::selection_query(model, c, &ctx.ctx.field()).map_err(plan_error)?;
    let text = host
        .read_item(caller, &c.name, &key, QueryInput::Json(query))
        .await
        .map_err(host_error)?;
    let row: Json = serde_json::from_str(&text).map_err(|_| internal("malformed item"))?;
    Ok((!row.is_null()).then(|| FieldValue::owned_any(row)))
}

type MutationFn = for<'a> fn(
    ResolverContext<'a>,
    Arc<Model>,
    String,
) -> futures_like::BoxFuture<'a, Result<Option<FieldValue<'a>>, Error>>;

mod futures_like {
    pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
}

fn mutation_field(
    model: &Arc<Model>,
    c: &Collection,
    name: String,
    ty: TypeRef,
    run: MutationFn,
) -> Field {
    let model = model.clone();
    let collection = c.name.clone();
    let nullable = !matches!(ty, TypeRef::NonNull(_));
    Field::new(name, ty, move |ctx| {
        let (model, collection) = (model.clone(), collection.clone());
        FieldFuture::Future(Box::pin(async move {
            let pos = ctx.item.pos;
            let path_ctx = ctx.ctx;
            match run(ctx, model, collection).await {
                Err(e) if nullable => {
                    path_ctx.add_error(path_ctx.set_error_path(e.into_server_error(pos)));
                    Ok(None)
                }
                other => other,
            }
        }))
    })
}

fn with_query_arguments(mut f: Field, gql: &str) -> Field {
    for (name, ty) in [
        ("filter", TypeRef::named(format!("{gql}_filter"))),
        ("sort", TypeRef::named_list(TypeRef::STRING)),
        ("limit", TypeRef::named(TypeRef::INT)),
        ("offset", TypeRef::named(TypeRef::INT)),
        ("page", TypeRef::named(TypeRef::INT)),
        ("search", TypeRef::named(TypeRef::STRING)),
    ] {
        f = f.argument(InputValue::new(name, ty));
    }
    f
}

/// The mutations the caller may run on `c`, in Directus's names and argument shapes. A
/// collection the caller can't read answers `Boolean` instead of its items.
pub fn mutations<H: Host + 'static>(model: Arc<Model>, c: &Collection) -> Vec<Field> {
    let gql = c.gql.clone();
    let (one, many) = if c.can_read {
        (TypeRef::named(&gql), TypeRef::named_nn_list_nn(&gql))
    } else {
        (
            TypeRef::named(TypeRef::BOOLEAN),
            TypeRef::named(TypeRef::BOOLEAN),
        )
    };
    let create_input = format!("create_{gql}_input");
    let update_input = format!("update_{gql}_input");
    let mut out = Vec::new();
    if c.singleton {
        if c.can_update {
            out.push(
                mutation_field(
                    &model,
                    c,
                    format!("update_{gql}"),
                    one,
                    |ctx, model, name| {
                        Box::pin(async move {
                            let (host, caller) = env::<H>(&ctx)?;
                            let c = collection(&model, &name)?;
                            let data = data_argument(&ctx)?;
                            let existing = host
                                .read_items(
                                    caller,
                                    &name,
                                    QueryInput::Json(
                                        json!({"fields": [c.primary_key], "limit": 1}),
                                    ),
                                )
                                .await
                                .map_err(host_error)?;
                            let keys: Vec<Json> = parse_rows(&existing.data)?
                                .into_iter()
                                .filter_map(|r| r.get(&c.primary_key).cloned())
                                .collect();
                            let keys = if keys.is_empty() {
                                host.create_items(caller, &name, data).await
                            } else {
                                host.update_items(caller, &name, Target::Keys(keys), data)
                                    .await
                            }
                            .map_err(host_error)?;
                            reread_one(&ctx, &model, c, host, caller, keys.into_iter().next()).await
                        })
                    },
                )
                .argument(InputValue::new("data", TypeRef::named_nn(&update_input))),
            );
        }
        return out;
    }
    if c.can_create {
        out.push(with_query_arguments(
            mutation_field(
                &model,
                c,
                format!("create_{gql}_items"),
                many.clone(),
                |ctx, model, name| {
                    Box::pin(async move {
                        let (host, caller) = env::<H>(&ctx)?;
                        let c = collection(&model, &name)?;
                        let data = match data_argument(&ctx)? {
                            Json::Null => Json::Array(Vec::new()),
                            d => d,
                        };
                        let keys = if data.as_array().is_some_and(Vec::is_empty) {
                            Vec::new()
                        } else {
                            host.create_items(caller, &name, data)
                                .await
                                .map_err(host_error)?
                        };
                        reread_many(&ctx, &model, c, host, caller, keys).await
                    })
                },
            )
            .argument(InputValue::new(
                "data",
                TypeRef::named_nn_list(&create_input),
            )),
            &gql,
        ));
        out.push(
            mutation_field(
                &model,
                c,
                format!("create_{gql}_item"),
                one.clone(),
                |ctx, model, name| {
                    Box::pin(async move {
                        let (host, caller) = env::<H>(&ctx)?;
                        let c = collection(&model, &name)?;
                        let data = data_argument(&ctx)?;
                        let keys = host
                            .create_items(caller, &name, data)
                            .await
                            .map_err(host_error)?;
                        reread_one(&ctx, &model, c, host, caller, keys.into_iter().next()).await
                    })
                },
            )
            .argument(InputValue::new("data", TypeRef::named_nn(&create_input))),
        );
    }
    if c.can_update {
        out.push(with_query_arguments(
            mutation_field(
                &model,
                c,
                format!("update_{gql}_items"),
                many.clone(),
                |ctx, model, name| {
                    Box::pin(async move {
                        let (host, caller) = env::<H>(&ctx)?;
                        let c = collection(&model, &name)?;
                        let ids = ids_argument(&ctx)?;
                        let data = data_argument(&ctx)?;
                        let keys = if ids.is_empty() {
                            Vec::new()
                        } else {
                            host.update_items(caller, &name, Target::Keys(ids), data)
                                .await
                                .map_err(host_error)?
                        };
                        reread_many(&ctx, &model, c, host, caller, keys).await
                    })
                },
            )
            .argument(InputValue::new("ids", TypeRef::named_list_nn(TypeRef::ID)))
            .argument(InputValue::new("data", TypeRef::named_nn(&update_input))),
            &gql,
        ));
        out.push(with_query_arguments(
            mutation_field(
                &model,
                c,
                format!("update_{gql}_batch"),
                many.clone(),
                |ctx, model, name| {
                    Box::pin(async move {
                        let (host, caller) = env::<H>(&ctx)?;
                        let c = collection(&model, &name)?;
                        let items = match data_argument(&ctx)? {
                            Json::Array(items) => items,
                            Json::Null => Vec::new(),
                            other => vec![other],
                        };
                        let keys = if items.is_empty() {
                            Vec::new()
                        } else {
                            host.update_batch(caller, &name, items)
                                .await
                                .map_err(host_error)?
                        };
                        reread_many(&ctx, &model, c, host, caller, keys).await
                    })
                },
            )
            .argument(InputValue::new(
                "data",
                TypeRef::named_nn_list(&update_input),
            )),
            &gql,
        ));
        out.push(
            mutation_field(
                &model,
                c,
                format!("update_{gql}_item"),
                one.clone(),
                |ctx, model, name| {
                    Box::pin(async move {
                        let (host, caller) = env::<H>(&ctx)?;
                        let c = collection(&model, &name)?;
                        let id = id_argument(&ctx, "id")?;
                        let data = data_argument(&ctx)?;
                        let keys = host
                            .update_items(caller, &name, Target::Keys(vec![Json::String(id)]), data)
                            .await
                            .map_err(host_error)?;
                        reread_one(&ctx, &model, c, host, caller, keys.into_iter().next()).await
                    })
                },
            )
            .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
            .argument(InputValue::new("data", TypeRef::named_nn(&update_input))),
        );
    }
    if c.can_delete {
        out.push(
            mutation_field(
                &model,
                c,
                format!("delete_{gql}_items"),
                TypeRef::named("delete_many"),
                |ctx, _model, name| {
                    Box::pin(async move {
                        let (host, caller) = env::<H>(&ctx)?;
                        let ids = ids_argument(&ctx)?;
                        if !ids.is_empty() {
                            host.delete_items(caller, &name, Target::Keys(ids.clone()))
                                .await
                                .map_err(host_error)?;
                        }
                        let ids = ids.iter().filter_map(id_value).collect();
                        Ok(Some(FieldValue::owned_any(DeletedMany(ids))))
                    })
                },
            )
            .argument(InputValue::new("ids", TypeRef::named_list_nn(TypeRef::ID))),
        );
        out.push(
            mutation_field(
                &model,
                c,
                format!("delete_{gql}_item"),
                TypeRef::named("delete_one"),
                |ctx, _model, name| {
                    Box::pin(async move {
                        let (host, caller) = env::<H>(&ctx)?;
                        let id = id_argument(&ctx, "id")?;
                        host.delete_items(
                            caller,
                            &name,
                            Target::Keys(vec![Json::String(id.clone())]),
                        )
                        .await
                        .map_err(host_error)?;
                        Ok(Some(FieldValue::owned_any(DeletedOne(Value::String(id)))))
                    })
                },
            )
            .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID))),
        );
    }
    out
}
