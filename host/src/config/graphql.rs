//! The GraphQL module's settings: `GRAPHQL_INTROSPECTION` (Directus's name, default true),
//! `GRAPHQL_MAX_DEPTH` (default 20) and `GRAPHQL_MAX_COMPLEXITY` (default 5000), the
//! limits every GraphQL operation is validated against. Modules read them through
//! `rectus_sdk::Host::setting` (`registry/native.rs`).

use super::{invalid, parse_num, ConfigError, Vars};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphqlConfig {
    /// Introspection queries and `/server/specs/graphql` are answered.
    pub introspection: bool,
    /// How deep a selection may nest (the standard introspection query needs 13).
    pub max_depth: usize,
    /// How many fields one operation may select in all.
    pub max_complexity: usize,
}

impl GraphqlConfig {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let introspection = match vars.get("GRAPHQL_INTROSPECTION") {
            None | Some("true") => true,
            Some("false") => false,
            Some(v) => return Err(invalid("GRAPHQL_INTROSPECTION", v, "must be true or false")),
        };
        let max_depth = parse_num(vars, "GRAPHQL_MAX_DEPTH", 20usize)?;
        if max_depth < 2 {
            return Err(invalid(
                "GRAPHQL_MAX_DEPTH",
                &max_depth.to_string(),
                "must be at least 2",
            ));
        }
        let max_complexity = parse_num(vars, "GRAPHQL_MAX_COMPLEXITY", 5000usize)?;
        if max_complexity < 1 {
            return Err(invalid("GRAPHQL_MAX_COMPLEXITY", "0", "must be at least 1"));
        }
        Ok(GraphqlConfig {
            introspection,
            max_depth,
            max_complexity,
        })
    }

    /// The value of a setting by its environment name, as modules ask for it.
    pub fn setting(&self, name: &str) -> Option<String> {
        Some(match name {
            "GRAPHQL_INTROSPECTION" => self.introspection.to_string(),
            "GRAPHQL_MAX_DEPTH" => self.max_depth.to_string(),
            "GRAPHQL_MAX_COMPLEXITY" => self.max_complexity.to_string(),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_values() {
        let c = GraphqlConfig::from_vars(&Vars::from_pairs([])).unwrap();
        assert_eq!(
            c,
            GraphqlConfig {
                introspection: true,
                max_depth: 20,
                max_complexity: 5000
            }
        );
        let c = GraphqlConfig::from_vars(&Vars::from_pairs([
            ("GRAPHQL_INTROSPECTION", "false"),
            ("GRAPHQL_MAX_DEPTH", "5"),
            ("GRAPHQL_MAX_COMPLEXITY", "50"),
        ]))
        .unwrap();
        assert_eq!(c.setting("GRAPHQL_INTROSPECTION").as_deref(), Some("false"));
        assert_eq!(c.setting("GRAPHQL_MAX_DEPTH").as_deref(), Some("5"));
        assert_eq!(c.setting("GRAPHQL_MAX_COMPLEXITY").as_deref(), Some("50"));
        assert_eq!(c.setting("SECRET"), None);
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (name, value) in [
            ("GRAPHQL_INTROSPECTION", "maybe"),
            ("GRAPHQL_MAX_DEPTH", "1"),
            ("GRAPHQL_MAX_DEPTH", "deep"),
            ("GRAPHQL_MAX_COMPLEXITY", "0"),
        ] {
            let err = GraphqlConfig::from_vars(&Vars::from_pairs([(name, value)])).unwrap_err();
            assert!(err.to_string().starts_with(name), "{err}");
        }
    }
}
