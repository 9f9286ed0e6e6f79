//! The query language shared by REST, GraphQL, flows and guests: the AST ([`Query`],
//! [`Filter`]), parsing it from a query string or a JSON object, with Directus's rules and
//! error messages (`INVALID_QUERY`).
//!
//! Owns: syntax — what a well-formed query is. Must not touch: the schema or SQL; checking
//! names against the schema and compiling to SQL happen later, against a snapshot.

pub mod compile;
pub mod eval;
pub mod filter;
pub mod parse;
pub mod qs;
pub mod values;

pub use filter::{Condition, Filter, Op};
pub use parse::{parse_json, parse_query_string, QueryError};

use indexmap::IndexMap;

/// A read query, as sent by a client.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// Field paths as written (`*`, `title`, `author.name`, `items.*`, `year(date)`,
    /// `item:headings.title`); `None` means `*`.
    pub fields: Option<Vec<String>>,
    pub filter: Option<Filter>,
    pub search: Option<String>,
    pub sort: Vec<Sort>,
    /// `None`: the default limit; `Some(-1)`: all rows.
    pub limit: Option<i64>,
    pub offset: Option<u64>,
    pub page: Option<u64>,
    pub aggregate: IndexMap<Aggregate, Vec<String>>,
    pub group_by: Vec<String>,
    /// Per relational path, a nested query (`deep[rel][_limit]=3`).
    pub deep: IndexMap<String, Query>,
    /// `alias[new]=field`.
    pub alias: IndexMap<String, String>,
    pub meta: Vec<Meta>,
    pub export: Option<Export>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    /// The field path, possibly relational (`author.name`) or a function (`year(date)`).
    pub field: String,
    pub descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Aggregate {
    Count,
    CountDistinct,
    CountAll,
    Sum,
    SumDistinct,
    Avg,
    AvgDistinct,
    Min,
    Max,
}

impl Aggregate {
    pub fn parse(name: &str) -> Option<Aggregate> {
        Some(match name {
            "count" => Aggregate::Count,
            "countDistinct" => Aggregate::CountDistinct,
            "countAll" => Aggregate::CountAll,
            "sum" => Aggregate::Sum,
            "sumDistinct" => Aggregate::SumDistinct,
            "avg" => Aggregate::Avg,
            "avgDistinct" => Aggregate::AvgDistinct,
            "min" => Aggregate::Min,
            "max" => Aggregate::Max,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Aggregate::Count => "count",
            Aggregate::CountDistinct => "countDistinct",
            Aggregate::CountAll => "countAll",
            Aggregate::Sum => "sum",
            Aggregate::SumDistinct => "sumDistinct",
            Aggregate::Avg => "avg",
            Aggregate::AvgDistinct => "avgDistinct",
            Aggregate::Min => "min",
            Aggregate::Max => "max",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meta {
    TotalCount,
    FilterCount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    Json,
    Csv,
    CsvUtf8,
    Xml,
    Yaml,
}

/// The functions a field path may apply (`year(date_created)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Year,
    Month,
    Week,
    Day,
    Weekday,
    Hour,
    Minute,
    Second,
    Count,
}

impl Function {
    pub fn parse(name: &str) -> Option<Function> {
        Some(match name {
            "year" => Function::Year,
            "month" => Function::Month,
            "week" => Function::Week,
            "day" => Function::Day,
            "weekday" => Function::Weekday,
            "hour" => Function::Hour,
            "minute" => Function::Minute,
            "second" => Function::Second,
            "count" => Function::Count,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Function::Year => "year",
            Function::Month => "month",
            Function::Week => "week",
            Function::Day => "day",
            Function::Weekday => "weekday",
            Function::Hour => "hour",
            Function::Minute => "minute",
            Function::Second => "second",
            Function::Count => "count",
        }
    }
}

/// Splits `year(date_created)` into the function and its field; `None` for a plain name.
/// An unknown function name is an error.
pub fn split_function(key: &str) -> Result<Option<(Function, &str)>, QueryError> {
    let Some(open) = key.find('(') else {
        return Ok(None);
    };
    let Some(inner) = key[open + 1..].strip_suffix(')') else {
        return Err(QueryError::new(format!("Invalid function call \"{key}\"")));
    };
    let name = &key[..open];
    let f = Function::parse(name)
        .ok_or_else(|| QueryError::new(format!("Invalid function \"{name}\" in \"{key}\"")))?;
    if inner.is_empty() || inner.contains(['(', ')', '.']) {
        return Err(QueryError::new(format!("Invalid function call \"{key}\"")));
    }
    Ok(Some((f, inner)))
}
