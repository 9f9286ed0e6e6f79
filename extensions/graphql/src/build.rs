//! The GraphQL schema for one caller and scope, built from its [`Model`] with
//! async-graphql's dynamic schema, in Directus's names: per collection the object type,
//! `<c>_filter`, `<c>_quantifier_filter`, `<c>_aggregated` (+ `_count`, `_fields`),
//! `create_<c>_input`, `update_<c>_input`; queries `<c>`, `<c>_by_id`, `<c>_aggregated`;
//! mutations `create_/update_/delete_<c>_item(s)`, `update_<c>_batch` (singletons: `<c>`
//! and `update_<c>`).
//!
//! Owns: types and which field resolves how. Must not touch: HTTP, caching.

use crate::model::{Collection, FieldShape, Kind, Model, Scope};
use crate::resolve;
use crate::shape::{id_value, object_of, scalar_value};
use crate::shared_types::{self, function_filter, function_output, output_type, FuncValues};
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputObject, InputValue, Object, Schema, SchemaError,
    Subscription, TypeRef,
};
use rectus_sdk::Host;
use serde_json::{Map, Value as Json};
use std::sync::Arc;

/// Limits from the host's configuration, applied to every schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub introspection: bool,
}

/// The arguments of lists and relations.
fn query_arguments(mut f: Field, gql: &str) -> Field {
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

/// The output field for one of a collection's fields, resolving from the parent row.
fn object_field(model: &Model, c: &Collection, field: &crate::model::Field) -> Option<Field> {
    let name = field.name.clone();
    Some(match &field.shape {
        FieldShape::Scalar(kind) if field.primary_key => {
            let _ = kind;
            Field::new(name.clone(), TypeRef::named_nn(TypeRef::ID), move |ctx| {
                FieldFuture::Value(
                    object_of(ctx.parent_value)
                        .and_then(|(row, _)| row.get(&name))
                        .and_then(id_value)
                        .map(FieldValue::value),
                )
            })
        }
        FieldShape::Scalar(kind) => {
            let kind = *kind;
            Field::new(name.clone(), output_type(kind), move |ctx| {
                FieldFuture::Value(
                    object_of(ctx.parent_value)
                        .and_then(|(row, _)| row.get(&name))
                        .and_then(|v| scalar_value(kind, v))
                        .map(FieldValue::value),
                )
            })
        }
        FieldShape::ToAny => Field::new(
            name.clone(),
            TypeRef::named(shared_types::JSON),
            move |ctx| {
                FieldFuture::Value(
                    object_of(ctx.parent_value)
                        .and_then(|(row, _)| row.get(&name))
                        .filter(|v| !v.is_null())
                        .map(|v| FieldValue::value(crate::shape::json_value(v))),
                )
            },
        ),
        FieldShape::ToOne(target) => {
            let related = model.get(target)?;
            let f = Field::new(name.clone(), TypeRef::named(&related.gql), move |ctx| {
                FieldFuture::Value(
                    object_of(ctx.parent_value)
                        .and_then(|(row, _)| row.get(&name))
                        .filter(|v| v.is_object())
                        .map(|v| FieldValue::borrowed_any(v)),
                )
            });
            query_arguments(f, &related.gql)
        }
        FieldShape::ToMany(target) => {
            let related = model.get(target)?;
            let f = Field::new(
                name.clone(),
                TypeRef::named_list(&related.gql),
                move |ctx| {
                    FieldFuture::Value(
                        object_of(ctx.parent_value)
                            .and_then(|(row, _)| row.get(&name))
                            .and_then(Json::as_array)
                            .map(|items| {
                                FieldValue::list(
                                    items
                                        .iter()
                                        .filter(|v| v.is_object())
                                        .map(|v| FieldValue::borrowed_any(v)),
                                )
                            }),
                    )
                },
            );
            let _ = c;
            query_arguments(f, &related.gql)
        }
    })
}

/// `<field>_func`: the date parts (or `count` of a one-to-many field) read from
/// `<field>_<part>` keys.
fn function_field(field: &crate::model::Field) -> Option<Field> {
    let (type_name, parts): (&str, Vec<&str>) = match &field.shape {
        FieldShape::Scalar(kind) => match function_output(*kind) {
            Some(t) => (t, kind.date_functions().to_vec()),
            // `count(json)` isn't in the host's query language yet: no `_func` for JSON.
            None => return None,
        },
        FieldShape::ToMany(_) => ("count_functions", vec!["count"]),
        _ => return None,
    };
    let base = field.name.clone();
    Some(Field::new(
        format!("{base}_func"),
        TypeRef::named(type_name),
        move |ctx| {
            let values: Map<String, Json> = object_of(ctx.parent_value)
                .map(|(row, _)| {
                    parts
                        .iter()
                        .filter_map(|p| {
                            row.get(&format!("{base}_{p}"))
                                .map(|v| (p.to_string(), v.clone()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            FieldFuture::Value(Some(FieldValue::owned_any(FuncValues(values))))
        },
    ))
}

fn collection_types(model: &Model, c: &Collection) -> Vec<async_graphql::dynamic::Type> {
    let mut object = Object::new(&c.gql);
    let mut filter = InputObject::new(format!("{}_filter", c.gql));
    let mut quantifier = InputObject::new(format!("{}_quantifier_filter", c.gql));
    let mut create = InputObject::new(format!("create_{}_input", c.gql));
    let mut update = InputObject::new(format!("update_{}_input", c.gql));
    let mut counts = Object::new(format!("{}_aggregated_count", c.gql));
    let mut numbers = Object::new(format!("{}_aggregated_fields", c.gql));
    let mut has_numbers = false;
    for field in &c.fields {
        let Some(out) = object_field(model, c, field) else {
            continue;
        };
        object = object.field(out);
        if let Some(func) = function_field(field) {
            object = object.field(func);
        }
        let name = field.name.as_str();
        let (filter_type, input_type): (String, TypeRef) = match &field.shape {
            FieldShape::Scalar(kind) => {
                let ops = if field.primary_key {
                    "number_filter_operators".to_string()
                } else {
                    shared_types::filter_operators(*kind).to_string()
                };
                let ops = if field.primary_key && !kind.is_numeric() {
                    "string_filter_operators".to_string()
                } else {
                    ops
                };
                let input = if field.primary_key {
                    TypeRef::named(TypeRef::ID)
                } else {
                    output_type(*kind)
                };
                if let Some(func) = function_filter(*kind) {
                    filter = filter.field(InputValue::new(
                        format!("{name}_func"),
                        TypeRef::named(func),
                    ));
                }
                (ops, input)
            }
            FieldShape::ToAny => (
                "json_filter_operators".into(),
                TypeRef::named(shared_types::JSON),
            ),
            FieldShape::ToOne(t) => {
                let related = &model.get(t).expect("checked").gql;
                (
                    format!("{related}_filter"),
                    TypeRef::named(format!("create_{related}_input")),
                )
            }
            FieldShape::ToMany(t) => {
                let related = &model.get(t).expect("checked").gql;
                filter = filter.field(InputValue::new(
                    format!("{name}_func"),
                    TypeRef::named("count_function_filter_operators"),
                ));
                (
                    format!("{related}_quantifier_filter"),
                    TypeRef::named_list(format!("create_{related}_input")),
                )
            }
        };
        filter = filter.field(InputValue::new(name, TypeRef::named(&filter_type)));
        quantifier = quantifier.field(InputValue::new(name, TypeRef::named(&filter_type)));
        let update_type = match &field.shape {
            FieldShape::ToOne(t) => TypeRef::named(format!(
                "update_{}_input",
                model.get(t).expect("checked").gql
            )),
            FieldShape::ToMany(t) => TypeRef::named_list(format!(
                "update_{}_input",
                model.get(t).expect("checked").gql
            )),
            _ => input_type.clone(),
        };
        create = create.field(InputValue::new(name, input_type));
        update = update.field(InputValue::new(name, update_type));
        if !matches!(field.shape, FieldShape::ToMany(_) | FieldShape::ToAny) {
            counts = counts.field(resolve::aggregate_part(name, false));
        }
        if matches!(&field.shape, FieldShape::Scalar(k) if k.is_numeric()) && !field.primary_key
            || matches!(&field.shape, FieldShape::Scalar(k) if field.primary_key && matches!(k, Kind::Int | Kind::BigInt))
        {
            numbers = numbers.field(resolve::aggregate_part(name, true));
            has_numbers = true;
        }
    }
    let gql = &c.gql;
    for op in ["_and", "_or"] {
        filter = filter.field(InputValue::new(
            op,
            TypeRef::named_list(format!("{gql}_filter")),
        ));
        quantifier = quantifier.field(InputValue::new(
            op,
            TypeRef::named_list(format!("{gql}_filter")),
        ));
    }
    for op in ["_some", "_none"] {
        quantifier = quantifier.field(InputValue::new(op, TypeRef::named(format!("{gql}_filter"))));
    }
    let mut aggregated = Object::new(format!("{gql}_aggregated"))
        .field(resolve::aggregate_group())
        .field(resolve::aggregate_count_all())
        .field(resolve::aggregate_object(
            "count",
            &format!("{gql}_aggregated_count"),
        ))
        .field(resolve::aggregate_object(
            "countDistinct",
            &format!("{gql}_aggregated_count"),
        ));
    if has_numbers {
        for f in ["avg", "sum", "avgDistinct", "sumDistinct", "min", "max"] {
            aggregated = aggregated.field(resolve::aggregate_object(
                f,
                &format!("{gql}_aggregated_fields"),
            ));
        }
    }
    let mut types: Vec<async_graphql::dynamic::Type> = vec![
        object.into(),
        filter.into(),
        quantifier.into(),
        create.into(),
        update.into(),
        counts.into(),
        aggregated.into(),
    ];
    if has_numbers {
        types.push(numbers.into());
    }
    types
}

/// Builds the schema for `model` (one scope of one caller's view).
pub fn schema<H: Host + Clone + 'static>(
    model: Arc<Model>,
    scope: Scope,
    limits: Limits,
) -> Result<Schema, SchemaError> {
    let mut query = Object::new("Query");
    let mut mutation = Object::new("Mutation");
    let mut has_query = false;
    let mut has_mutation = false;
    let mut subscription = Subscription::new("Subscription");
    let mut has_subscription = false;
    let mut types = Vec::new();
    for c in model.collections.values() {
        types.extend(collection_types(&model, c));
        let gql = &c.gql;
        if c.can_read {
            has_query = true;
            if c.singleton {
                query = query.field(resolve::singleton::<H>(model.clone(), c));
            } else {
                query = query
                    .field(query_arguments(resolve::list::<H>(model.clone(), c), gql))
                    .field(resolve::by_id::<H>(model.clone(), c))
                    .field(
                        query_arguments(resolve::aggregated::<H>(model.clone(), c), gql).argument(
                            InputValue::new("groupBy", TypeRef::named_list(TypeRef::STRING)),
                        ),
                    );
            }
        }
        // `<c>_mutated` over WebSocket, for the items scope (as Directus).
        if c.can_read && !c.singleton && scope == Scope::Items {
            has_subscription = true;
            subscription = subscription.field(crate::subscribe::field::<H>(model.clone(), c));
            types.push(crate::subscribe::mutated_type(c).into());
        }
        for f in resolve::mutations::<H>(model.clone(), c) {
            has_mutation = true;
            mutation = mutation.field(f);
        }
    }
    if scope == Scope::System {
        // The system scope's own resolvers (Directus has many more: `server_info`,
        // `auth_*` …; these two are what clients check first).
        query = query.field(resolve::server_ping());
        if let Some(users) = model.get("directus_users") {
            query = query.field(resolve::users_me::<H>(model.clone(), users));
        }
        has_query = true;
    }
    if !has_query {
        // A schema needs a query field; Directus's placeholder when nothing is readable.
        query = query.field(Field::new(
            "_empty",
            TypeRef::named(shared_types::VOID),
            |_| FieldFuture::from_value(None),
        ));
    }
    let mut b = Schema::build(
        "Query",
        has_mutation.then_some("Mutation"),
        has_subscription.then_some("Subscription"),
    )
    .register(query)
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    .disable_suggestions();
    if has_mutation {
        b = b.register(mutation);
    }
    if has_subscription {
        b = b.register(subscription);
    }
    if !limits.introspection {
        b = b.disable_introspection();
    }
    b = shared_types::register(b);
    for t in types {
        b = b.register(t);
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rectus_sdk::{Context, HostError, Items, QueryInput, SchemaView, Target};
    use serde_json::json;

    struct NoEvents;

    impl rectus_sdk::ItemEvents for NoEvents {
        async fn next(&mut self) -> Option<rectus_sdk::ItemEvent> {
            None
        }
    }

    /// Schema building never calls the host; resolvers would, and this one refuses.
    #[derive(Clone)]
    struct Refusing;

    impl Host for Refusing {
        async fn read_items(
            &self,
            _: &Context,
            _: &str,
            _: QueryInput,
        ) -> Result<Items, HostError> {
            Err(HostError::forbidden())
        }
        async fn read_item(
            &self,
            _: &Context,
            _: &str,
            _: &str,
            _: QueryInput,
        ) -> Result<String, HostError> {
            Err(HostError::forbidden())
        }
        async fn create_items(
            &self,
            _: &Context,
            _: &str,
            _: Json,
        ) -> Result<Vec<Json>, HostError> {
            Err(HostError::forbidden())
        }
        async fn update_items(
            &self,
            _: &Context,
            _: &str,
            _: Target,
            _: Json,
        ) -> Result<Vec<Json>, HostError> {
            Err(HostError::forbidden())
        }
        async fn update_batch(
            &self,
            _: &Context,
            _: &str,
            _: Vec<Json>,
        ) -> Result<Vec<Json>, HostError> {
            Err(HostError::forbidden())
        }
        async fn delete_items(&self, _: &Context, _: &str, _: Target) -> Result<(), HostError> {
            Err(HostError::forbidden())
        }
        fn is_singleton(&self, _: &str) -> bool {
            false
        }
        fn primary_key(&self, _: &str) -> Option<String> {
            None
        }
        fn setting(&self, _: &str) -> Option<String> {
            None
        }
        type Events = NoEvents;
        fn item_events(&self) -> NoEvents {
            NoEvents
        }
        async fn schema(&self, _: &Context) -> Result<SchemaView, HostError> {
            Err(HostError::forbidden())
        }
    }

    /// `n` collections `c0 … c{n-1}` of 8 fields, each with a many-to-one to the previous
    /// one and its one-to-many back.
    fn view(n: usize) -> (Json, Json) {
        let (mut collections, mut fields, mut relations) = (vec![], vec![], vec![]);
        let mut permissions = serde_json::Map::new();
        for i in 0..n {
            let c = format!("c{i}");
            collections.push(json!({"collection": c, "meta": null, "schema": {"name": c}}));
            for (f, t) in [
                ("id", "integer"),
                ("title", "string"),
                ("amount", "decimal"),
                ("score", "float"),
                ("created", "timestamp"),
                ("data", "json"),
                ("done", "boolean"),
                ("parent", "integer"),
            ] {
                fields.push(json!({"collection": c, "field": f, "type": t,
                    "schema": {"is_primary_key": f == "id"}}));
            }
            fields.push(
                json!({"collection": c, "field": "children", "type": "alias", "schema": null}),
            );
            if i > 0 {
                relations.push(json!({"collection": c, "field": "parent",
                    "related_collection": format!("c{}", i - 1), "meta": {"one_field": "children"}}));
            }
            let all = json!(["*"]);
            permissions.insert(
                c,
                json!({"create": all, "read": all, "update": all, "delete": all}),
            );
        }
        (
            json!({"collections": collections, "fields": fields, "relations": relations}),
            Json::Object(permissions),
        )
    }

    const LIMITS: Limits = Limits {
        max_depth: 20,
        max_complexity: 5000,
        introspection: true,
    };

    #[test]
    fn builds_directus_names() {
        let (s, p) = view(2);
        let model = Arc::new(Model::from_view(&s, &p, Scope::Items));
        let sdl = schema::<Refusing>(model, Scope::Items, LIMITS)
            .unwrap()
            .sdl();
        for expected in [
            "type c1 {",
            "parent(filter: c0_filter, sort: [String], limit: Int, offset: Int, page: Int, search: String): c0",
            "children(filter: c1_filter, sort: [String], limit: Int, offset: Int, page: Int, search: String): [c1]",
            "c0_by_id(id: ID!): c0",
            "c0_aggregated(filter: c0_filter",
            "create_c0_item(data: create_c0_input!): c0",
            "update_c0_batch(",
            "delete_c0_items(ids: [ID]!): delete_many",
            "input c0_filter {",
            "created_func: datetime_function_filter_operators",
            "input number_filter_operators {",
        ] {
            assert!(sdl.contains(expected), "{expected} in\n{sdl}");
        }
    }

    #[test]
    fn an_empty_view_has_the_placeholder_query() {
        let model = Arc::new(Model::default());
        let sdl = schema::<Refusing>(model, Scope::Items, LIMITS)
            .unwrap()
            .sdl();
        assert!(sdl.contains("_empty: Void"), "{sdl}");
    }

    /// The bench case: 200 collections (target < 50 ms in a release build; printed with
    /// `--nocapture`).
    #[test]
    fn schema_generation_for_200_collections() {
        let (s, p) = view(200);
        let mut times = Vec::new();
        for _ in 0..5 {
            let start = std::time::Instant::now();
            let model = Arc::new(Model::from_view(&s, &p, Scope::Items));
            let built = schema::<Refusing>(model, Scope::Items, LIMITS).unwrap();
            times.push(start.elapsed());
            assert!(built.sdl().contains("type c199 {"));
        }
        times.sort();
        println!(
            "| graphql schema | 200 collections × 9 fields, model + dynamic schema, 5 runs | min {:.1} / median {:.1} / max {:.1} ms | < 50 ms |",
            times[0].as_secs_f64() * 1e3,
            times[2].as_secs_f64() * 1e3,
            times[4].as_secs_f64() * 1e3,
        );
    }
}
