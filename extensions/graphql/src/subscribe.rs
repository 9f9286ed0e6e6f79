//! Subscriptions: `<c>_mutated(event: EventEnum): <c>_mutated { key event data }` fed by
//! the host's item events, each changed item re-read with `read_item` under the
//! subscriber's context (so a row it may not read sends nothing; deletes send `data:
//! null`, one message per key), and the `graphql-transport-ws` protocol over a socket the
//! host hands over.
//!
//! Owns: the subscription types and the protocol loop. Must not touch: the socket's
//! lifetime (the host closes it when the caller's token expires).

use crate::model::{Collection, Model, Scope};
use crate::plan;
use crate::resolve::{host_error, plan_error};
use crate::shape::id_value;
use crate::GraphQl;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputValue, Object, SubscriptionField, SubscriptionFieldFuture,
    TypeRef,
};
use async_graphql::{Name, Value, Variables};
use futures_util::stream::{AbortHandle, Abortable, SelectAll, StreamExt};
use rectus_sdk::{Context, Host, HostError, ItemAction, ItemEvents, QueryInput, Socket};
use serde_json::{json, Value as Json};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// One change as `<c>_mutated` resolves it.
struct Mutated {
    key: Value,
    event: &'static str,
    data: Option<Json>,
}

/// The `<c>_mutated` object type.
pub fn mutated_type(c: &Collection) -> Object {
    Object::new(format!("{}_mutated", c.gql))
        .field(Field::new("key", TypeRef::named_nn(TypeRef::ID), |ctx| {
            FieldFuture::Value(
                ctx.parent_value
                    .downcast_ref::<Mutated>()
                    .map(|m| FieldValue::value(m.key.clone())),
            )
        }))
        .field(Field::new("event", TypeRef::named("EventEnum"), |ctx| {
            FieldFuture::Value(
                ctx.parent_value
                    .downcast_ref::<Mutated>()
                    .map(|m| FieldValue::value(Value::Enum(Name::new(m.event)))),
            )
        }))
        .field(Field::new("data", TypeRef::named(&c.gql), |ctx| {
            FieldFuture::Value(
                ctx.parent_value
                    .downcast_ref::<Mutated>()
                    .and_then(|m| m.data.as_ref())
                    .map(|d| FieldValue::borrowed_any(d)),
            )
        }))
}

/// `<c>_mutated(event: EventEnum)`.
pub fn field<H: Host>(model: Arc<Model>, c: &Collection) -> SubscriptionField {
    let name = c.name.clone();
    SubscriptionField::new(
        format!("{}_mutated", c.gql),
        TypeRef::named(format!("{}_mutated", c.gql)),
        move |ctx| {
            let (model, name) = (model.clone(), name.clone());
            SubscriptionFieldFuture::new(async move {
                let host = ctx.data::<H>()?.clone();
                let caller = ctx.data::<Context>()?.clone();
                let wanted: Option<String> = match ctx.args.get("event") {
                    Some(v) => Some(v.enum_name()?.to_string()),
                    None => None,
                };
                let c = model
                    .get(&name)
                    .ok_or_else(|| host_error(HostError::forbidden()))?;
                let data = ctx.ctx.field().selection_set().find(|f| f.name() == "data");
                let query = match data {
                    Some(d) => Some(plan::selection_query(&model, c, &d).map_err(plan_error)?),
                    None => None,
                };
                let state = (host.item_events(), VecDeque::<(Json, ItemAction)>::new());
                Ok(futures_util::stream::unfold(
                    state,
                    move |(mut events, mut pending)| {
                        let (host, caller, name, query, wanted) = (
                            host.clone(),
                            caller.clone(),
                            name.clone(),
                            query.clone(),
                            wanted.clone(),
                        );
                        async move {
                            loop {
                                if let Some((key, action)) = pending.pop_front() {
                                    let key_text = match &key {
                                        Json::String(s) => s.clone(),
                                        other => other.to_string(),
                                    };
                                    let data = match (&query, action) {
                                        (Some(q), ItemAction::Create | ItemAction::Update) => {
                                            match host
                                                .read_item(
                                                    &caller,
                                                    &name,
                                                    &key_text,
                                                    QueryInput::Json(q.clone()),
                                                )
                                                .await
                                            {
                                                Ok(text) => serde_json::from_str(&text).ok(),
                                                // Not readable by this subscriber.
                                                Err(_) => continue,
                                            }
                                        }
                                        _ => None,
                                    };
                                    let item = Mutated {
                                        key: id_value(&key).unwrap_or(Value::Null),
                                        event: action.name(),
                                        data,
                                    };
                                    return Some((
                                        Ok::<_, async_graphql::Error>(FieldValue::owned_any(item)),
                                        (events, pending),
                                    ));
                                }
                                let event = events.next().await?;
                                if event.collection != name
                                    || wanted.as_deref().is_some_and(|w| w != event.action.name())
                                {
                                    continue;
                                }
                                pending.extend(event.keys.into_iter().map(|k| (k, event.action)));
                            }
                        }
                    },
                ))
            })
        },
    )
    .argument(InputValue::new("event", TypeRef::named("EventEnum")))
}

/// What one subscription stream yields: its id and a response, or its end.
type Next = (String, Option<Box<async_graphql::Response>>);

/// The `graphql-transport-ws` protocol over one socket: `connection_init` →
/// `connection_ack`, `ping` → `pong`, `subscribe` → `next`… `complete`, `complete` from the
/// client stops one. Ends when the socket closes (or the host closes it).
pub async fn serve<H: Host, S: Socket>(module: &GraphQl, host: H, ctx: Context, mut socket: S) {
    let mut acknowledged = false;
    let mut running: SelectAll<futures_util::stream::BoxStream<'static, Next>> = SelectAll::new();
    let mut handles: HashMap<String, AbortHandle> = HashMap::new();
    loop {
        let incoming = if running.is_empty() {
            match socket.recv().await {
                Some(text) => Incoming::Frame(text),
                None => return,
            }
        } else {
            let recv = std::pin::pin!(socket.recv());
            match futures_util::future::select(recv, running.next()).await {
                futures_util::future::Either::Left((Some(text), _)) => Incoming::Frame(text),
                futures_util::future::Either::Left((None, _)) => return,
                futures_util::future::Either::Right((Some(next), _)) => Incoming::Next(next),
                futures_util::future::Either::Right((None, _)) => continue,
            }
        };
        let reply = match incoming {
            Incoming::Next((id, Some(response))) => {
                json!({"type": "next", "id": id, "payload": response})
            }
            Incoming::Next((id, None)) => {
                // A stream the client completed ends silently.
                if handles.remove(&id).is_none() {
                    continue;
                }
                json!({"type": "complete", "id": id})
            }
            Incoming::Frame(text) => {
                let Ok(message) = serde_json::from_str::<Json>(&text) else {
                    return; // not the protocol: close, as graphql-ws servers do (4400)
                };
                match message["type"].as_str() {
                    Some("connection_init") => {
                        acknowledged = true;
                        json!({"type": "connection_ack"})
                    }
                    Some("ping") => json!({"type": "pong"}),
                    Some("pong") => continue,
                    Some("subscribe") if acknowledged => {
                        let Some(id) = message["id"].as_str().map(str::to_string) else {
                            return;
                        };
                        let payload = &message["payload"];
                        let schema = match module.schema_for(&host, &ctx, Scope::Items).await {
                            Ok(s) => s,
                            Err(e) => {
                                let error =
                                    json!({"message": e.message, "extensions": {"code": e.code}});
                                send(
                                    &mut socket,
                                    json!({"type": "error", "id": id, "payload": [error]}),
                                )
                                .await;
                                continue;
                            }
                        };
                        let mut request = async_graphql::Request::new(
                            payload["query"].as_str().unwrap_or_default(),
                        );
                        if let Some(v) = payload.get("variables").filter(|v| v.is_object()) {
                            request = request.variables(Variables::from_json(v.clone()));
                        }
                        if let Some(n) = payload["operationName"].as_str() {
                            request = request.operation_name(n);
                        }
                        let request = request.data(host.clone()).data(ctx.clone());
                        let (handle, registration) = AbortHandle::new_pair();
                        let responses =
                            Abortable::new(schema.execute_stream(request), registration);
                        let tagged = id.clone();
                        let ended = id.clone();
                        let stream = responses
                            .map(move |r| (tagged.clone(), Some(Box::new(r))))
                            .chain(futures_util::stream::once(async move { (ended, None) }));
                        if let Some(old) = handles.insert(id, handle) {
                            old.abort();
                        }
                        running.push(stream.boxed());
                        continue;
                    }
                    Some("complete") => {
                        if let Some(h) = message["id"].as_str().and_then(|id| handles.remove(id)) {
                            h.abort();
                        }
                        continue;
                    }
                    _ => return, // unknown, or subscribe before connection_init
                }
            }
        };
        if !send(&mut socket, reply).await {
            return;
        }
    }
}

enum Incoming {
    Frame(String),
    Next(Next),
}

async fn send<S: Socket>(socket: &mut S, message: Json) -> bool {
    socket.send(message.to_string()).await
}
