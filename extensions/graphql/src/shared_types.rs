//! The types every Directus GraphQL schema has, whatever the collections: its scalars
//! (`JSON`, `Date`, `GraphQLBigInt` …), the filter operator inputs
//! (`string_filter_operators` …), the function filters and outputs, and the delete
//! results.
//!
//! Owns: those shared names and shapes. Must not touch: per-collection types.

use crate::model::Kind;
use async_graphql::dynamic::{
    Enum, Field, FieldFuture, InputObject, InputValue, Object, Scalar, SchemaBuilder, TypeRef,
};

pub const JSON: &str = "JSON";
pub const DATE: &str = "Date";
pub const BIG_INT: &str = "GraphQLBigInt";
pub const STRING_OR_FLOAT: &str = "GraphQLStringOrFloat";
pub const HASH: &str = "Hash";
pub const GEO_JSON: &str = "GraphQLGeoJSON";
pub const VOID: &str = "Void";

/// The output type of a field of this kind.
pub fn output_type(kind: Kind) -> TypeRef {
    match kind {
        Kind::Int => TypeRef::named(TypeRef::INT),
        Kind::BigInt => TypeRef::named(BIG_INT),
        Kind::Float => TypeRef::named(TypeRef::FLOAT),
        Kind::Decimal | Kind::String | Kind::Time => TypeRef::named(TypeRef::STRING),
        Kind::Boolean => TypeRef::named(TypeRef::BOOLEAN),
        Kind::Json => TypeRef::named(JSON),
        Kind::Csv => TypeRef::named_list(TypeRef::STRING),
        Kind::Date | Kind::DateTime => TypeRef::named(DATE),
        Kind::Hash => TypeRef::named(HASH),
        Kind::GeoJson => TypeRef::named(GEO_JSON),
    }
}

/// The filter operators input for a field of this kind.
pub fn filter_operators(kind: Kind) -> &'static str {
    match kind {
        Kind::Int | Kind::Float | Kind::Decimal => "number_filter_operators",
        Kind::BigInt => "big_int_filter_operators",
        Kind::String | Kind::Csv | Kind::Time => "string_filter_operators",
        Kind::Boolean => "boolean_filter_operators",
        Kind::Json => "json_filter_operators",
        Kind::Date | Kind::DateTime => "date_filter_operators",
        Kind::Hash => "hash_filter_operators",
        Kind::GeoJson => "geometry_filter_operators",
    }
}

/// The `<field>_func` filter input for a date/time kind.
pub fn function_filter(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Date => Some("date_function_filter_operators"),
        Kind::DateTime => Some("datetime_function_filter_operators"),
        Kind::Time => Some("time_function_filter_operators"),
        _ => None,
    }
}

/// The `<field>_func` output type for a date/time kind.
pub fn function_output(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Date => Some("date_functions"),
        Kind::DateTime => Some("datetime_functions"),
        Kind::Time => Some("time_functions"),
        _ => None,
    }
}

fn ops(name: &str, scalar: &str, list_scalar: &str, ops: &[&str], lists: &[&str]) -> InputObject {
    let mut input = InputObject::new(name);
    for op in ops {
        input = input.field(InputValue::new(*op, TypeRef::named(scalar)));
    }
    for op in lists {
        input = input.field(InputValue::new(*op, TypeRef::named_list(list_scalar)));
    }
    for op in ["_null", "_nnull"] {
        input = input.field(InputValue::new(op, TypeRef::named(TypeRef::BOOLEAN)));
    }
    input
}

const TEXT_OPS: &[&str] = &[
    "_eq",
    "_neq",
    "_contains",
    "_icontains",
    "_ncontains",
    "_starts_with",
    "_nstarts_with",
    "_istarts_with",
    "_nistarts_with",
    "_ends_with",
    "_nends_with",
    "_iends_with",
    "_niends_with",
];
const ORDER_OPS: &[&str] = &["_eq", "_neq", "_lt", "_lte", "_gt", "_gte"];

fn with_empty(mut input: InputObject) -> InputObject {
    for op in ["_empty", "_nempty"] {
        input = input.field(InputValue::new(op, TypeRef::named(TypeRef::BOOLEAN)));
    }
    input
}

/// What a `<field>_func` field resolves to: its parts (`year` …, `count`) read from the
/// row's `<field>_<part>` keys (`year(date)` comes back as `date_year`).
pub struct FuncValues(pub serde_json::Map<String, serde_json::Value>);

/// `<name> { <part>: Int }`, read from a [`FuncValues`] parent.
fn function_object(name: &str, parts: &[&str]) -> Object {
    let mut o = Object::new(name);
    for part in parts {
        let part = part.to_string();
        o = o.field(Field::new(
            part.clone(),
            TypeRef::named(TypeRef::INT),
            move |ctx| {
                let part = part.clone();
                FieldFuture::new(async move {
                    let values = ctx.parent_value.try_downcast_ref::<FuncValues>()?;
                    Ok(values
                        .0
                        .get(&part)
                        .and_then(crate::shape::int_value)
                        .map(async_graphql::Value::from))
                })
            },
        ));
    }
    o
}

/// Registers the shared types on a schema under construction.
pub fn register(mut b: SchemaBuilder) -> SchemaBuilder {
    for scalar in [
        JSON,
        DATE,
        BIG_INT,
        STRING_OR_FLOAT,
        HASH,
        GEO_JSON,
        VOID,
        "GraphQLJsonFilter",
    ] {
        b = b.register(Scalar::new(scalar));
    }
    b = b
        .register(with_empty(ops(
            "string_filter_operators",
            TypeRef::STRING,
            TypeRef::STRING,
            TEXT_OPS,
            &["_in", "_nin"],
        )))
        .register(ops(
            "number_filter_operators",
            STRING_OR_FLOAT,
            STRING_OR_FLOAT,
            ORDER_OPS,
            &["_in", "_nin", "_between", "_nbetween"],
        ))
        .register(ops(
            "big_int_filter_operators",
            BIG_INT,
            BIG_INT,
            ORDER_OPS,
            &["_in", "_nin", "_between", "_nbetween"],
        ))
        .register(ops(
            "date_filter_operators",
            TypeRef::STRING,
            STRING_OR_FLOAT,
            ORDER_OPS,
            &["_in", "_nin", "_between", "_nbetween"],
        ))
        .register(ops(
            "boolean_filter_operators",
            TypeRef::BOOLEAN,
            TypeRef::BOOLEAN,
            &["_eq", "_neq"],
            &[],
        ))
        .register(with_empty(ops(
            "id_filter_operators",
            TypeRef::ID,
            TypeRef::ID,
            TEXT_OPS,
            &["_in", "_nin"],
        )))
        .register(with_empty(ops(
            "hash_filter_operators",
            TypeRef::STRING,
            TypeRef::STRING,
            &[],
            &[],
        )))
        .register(with_empty(ops(
            "json_filter_operators",
            "GraphQLJsonFilter",
            "GraphQLJsonFilter",
            &["_json"],
            &[],
        )))
        .register(ops(
            "geometry_filter_operators",
            GEO_JSON,
            GEO_JSON,
            &[
                "_eq",
                "_neq",
                "_intersects",
                "_nintersects",
                "_intersects_bbox",
                "_nintersects_bbox",
            ],
            &[],
        ))
        .register(
            InputObject::new("count_function_filter_operators").field(InputValue::new(
                "count",
                TypeRef::named("number_filter_operators"),
            )),
        );
    for (name, kind) in [
        ("date_function_filter_operators", Kind::Date),
        ("datetime_function_filter_operators", Kind::DateTime),
        ("time_function_filter_operators", Kind::Time),
    ] {
        let mut input = InputObject::new(name);
        for part in kind.date_functions() {
            input = input.field(InputValue::new(
                *part,
                TypeRef::named("number_filter_operators"),
            ));
        }
        b = b.register(input);
    }
    b = b
        .register(function_object("count_functions", &["count"]))
        .register(function_object(
            "date_functions",
            Kind::Date.date_functions(),
        ))
        .register(function_object(
            "datetime_functions",
            Kind::DateTime.date_functions(),
        ))
        .register(function_object(
            "time_functions",
            Kind::Time.date_functions(),
        ))
        .register(Object::new("delete_one").field(Field::new(
            "id",
            TypeRef::named_nn(TypeRef::ID),
            |ctx| {
                FieldFuture::new(async move {
                    Ok(Some(
                        ctx.parent_value.try_downcast_ref::<DeletedOne>()?.0.clone(),
                    ))
                })
            },
        )))
        .register(Object::new("delete_many").field(Field::new(
            "ids",
            TypeRef::named_list_nn(TypeRef::ID),
            |ctx| {
                FieldFuture::new(async move {
                    let ids = &ctx.parent_value.try_downcast_ref::<DeletedMany>()?.0;
                    Ok(Some(async_graphql::Value::List(ids.clone())))
                })
            },
        )))
        .register(
            Enum::new("EventEnum")
                .item("create")
                .item("update")
                .item("delete"),
        );
    b
}

/// What `delete_<c>_item` resolves to: `{ id }`.
pub struct DeletedOne(pub async_graphql::Value);
/// What `delete_<c>_items` resolves to: `{ ids }`.
pub struct DeletedMany(pub Vec<async_graphql::Value>);
