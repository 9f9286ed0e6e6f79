//! Dynamic variables in permission filters: `$CURRENT_USER`, `$CURRENT_ROLE`,
//! `$CURRENT_ROLES` (the role and its ancestors) and `$CURRENT_POLICIES`, replaced by the
//! caller's values before a filter is compiled (`$NOW` is the compiler's, as in queries).
//! Anonymous callers have `null` for the user and role, as in Directus.
//!
//! A field of the caller's user or role (`$CURRENT_USER.email`, `$CURRENT_ROLE.name`) is
//! looked up once per caller (see `access::for_caller`); deeper paths
//! (`$CURRENT_USER.avatar.filesize`) are not resolved and leave the rule matching nothing.

use crate::query::{Condition, Filter};
use serde_json::Value as Json;
use std::collections::{BTreeSet, HashMap};

/// The caller's values for the variables.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Variables {
    pub user: Option<String>,
    pub role: Option<String>,
    pub roles: Vec<String>,
    pub policies: Vec<String>,
    /// `$CURRENT_USER.<field>` / `$CURRENT_ROLE.<field>` → the caller's value.
    pub fields: HashMap<String, Json>,
}

impl Variables {
    fn single(&self, name: &str) -> Option<Json> {
        Some(match name {
            "$CURRENT_USER" => self.user.clone().map(Json::from).unwrap_or(Json::Null),
            "$CURRENT_ROLE" => self.role.clone().map(Json::from).unwrap_or(Json::Null),
            "$CURRENT_ROLES" => Json::from(self.roles.clone()),
            "$CURRENT_POLICIES" => Json::from(self.policies.clone()),
            path if path.contains('.') => {
                if let Some(v) = self.fields.get(path) {
                    return Some(v.clone());
                }
                // Anonymous, or an unknown field: no value.
                if path.starts_with("$CURRENT_USER.") || path.starts_with("$CURRENT_ROLE.") {
                    return Some(Json::Null);
                }
                return None;
            }
            _ => return None,
        })
    }

    /// A value with its variables replaced; inside a list, a list variable is spliced in.
    pub fn value(&self, v: &Json) -> Json {
        match v {
            Json::String(s) => self.single(s).unwrap_or_else(|| v.clone()),
            Json::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item.as_str().and_then(|s| self.single(s)) {
                        Some(Json::Array(list)) => out.extend(list),
                        Some(one) => out.push(one),
                        None => out.push(item.clone()),
                    }
                }
                Json::Array(out)
            }
            other => other.clone(),
        }
    }

    pub fn apply(&self, f: &Filter) -> Filter {
        match f {
            Filter::And(items) => Filter::And(items.iter().map(|i| self.apply(i)).collect()),
            Filter::Or(items) => Filter::Or(items.iter().map(|i| self.apply(i)).collect()),
            Filter::Field { key, condition } => Filter::Field {
                key: key.clone(),
                condition: match condition {
                    Condition::Ops(ops) => {
                        Condition::Ops(ops.iter().map(|(op, v)| (*op, self.value(v))).collect())
                    }
                    Condition::Related(inner) => Condition::Related(Box::new(self.apply(inner))),
                    Condition::Some(inner) => Condition::Some(Box::new(self.apply(inner))),
                    Condition::None(inner) => Condition::None(Box::new(self.apply(inner))),
                },
            },
        }
    }
}

/// The `$CURRENT_USER.<field>` / `$CURRENT_ROLE.<field>` paths a filter names.
pub fn field_paths(f: &Filter, out: &mut BTreeSet<String>) {
    fn value(v: &Json, out: &mut BTreeSet<String>) {
        match v {
            Json::String(s)
                if s.starts_with("$CURRENT_USER.") || s.starts_with("$CURRENT_ROLE.") =>
            {
                out.insert(s.clone());
            }
            Json::Array(items) => items.iter().for_each(|i| value(i, out)),
            _ => {}
        }
    }
    match f {
        Filter::And(items) | Filter::Or(items) => items.iter().for_each(|i| field_paths(i, out)),
        Filter::Field { condition, .. } => match condition {
            Condition::Ops(ops) => ops.iter().for_each(|(_, v)| value(v, out)),
            Condition::Related(i) | Condition::Some(i) | Condition::None(i) => field_paths(i, out),
        },
    }
}

/// Whether a filter names one of the caller's variables.
pub fn mentions_variables(f: &Filter) -> bool {
    fn value(v: &Json) -> bool {
        match v {
            Json::String(s) => s.starts_with("$CURRENT_"),
            Json::Array(items) => items.iter().any(value),
            _ => false,
        }
    }
    match f {
        Filter::And(items) | Filter::Or(items) => items.iter().any(mentions_variables),
        Filter::Field { condition, .. } => match condition {
            Condition::Ops(ops) => ops.iter().any(|(_, v)| value(v)),
            Condition::Related(i) | Condition::Some(i) | Condition::None(i) => {
                mentions_variables(i)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::filter::parse_filter;
    use serde_json::json;

    #[test]
    fn replaces_and_splices() {
        let vars = Variables {
            user: Some("u1".into()),
            role: Some("r2".into()),
            roles: vec!["r1".into(), "r2".into()],
            policies: vec!["p".into()],
            ..Default::default()
        };
        let f = parse_filter(
            &json!({"_and": [
                {"owner": {"_eq": "$CURRENT_USER"}},
                {"team": {"role": {"_in": ["$CURRENT_ROLES", "x"]}}},
                {"policy": {"_in": "$CURRENT_POLICIES"}}
            ]}),
            false,
        )
        .unwrap();
        assert!(mentions_variables(&f));
        let g = vars.apply(&f);
        let want = parse_filter(
            &json!({"_and": [
                {"owner": {"_eq": "u1"}},
                {"team": {"role": {"_in": ["r1", "r2", "x"]}}},
                {"policy": {"_in": ["p"]}}
            ]}),
            false,
        )
        .unwrap();
        assert_eq!(g, want);
        assert!(!mentions_variables(&want));
    }

    #[test]
    fn fields_of_the_user() {
        let f = parse_filter(&json!({"email": {"_eq": "$CURRENT_USER.email"}, "team": {"_eq": "$CURRENT_ROLE.name"}}), false).unwrap();
        let mut paths = BTreeSet::new();
        field_paths(&f, &mut paths);
        assert_eq!(
            paths.into_iter().collect::<Vec<_>>(),
            vec!["$CURRENT_ROLE.name", "$CURRENT_USER.email"]
        );
        let vars = Variables {
            fields: [("$CURRENT_USER.email".to_string(), json!("a@b.c"))].into(),
            ..Default::default()
        };
        let want = parse_filter(
            &json!({"email": {"_eq": "a@b.c"}, "team": {"_eq": null}}),
            false,
        )
        .unwrap();
        assert_eq!(vars.apply(&f), want);
    }

    #[test]
    fn anonymous_user_is_null() {
        let f = parse_filter(&json!({"owner": {"_eq": "$CURRENT_USER"}}), false).unwrap();
        let g = Variables::default().apply(&f);
        assert_eq!(
            g,
            parse_filter(&json!({"owner": {"_eq": null}}), false).unwrap()
        );
    }
}
