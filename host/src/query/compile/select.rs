//! Resolving `fields` against the schema into a selection tree: which columns,
//! functions and relations each level outputs, under which keys. `*` expands to every
//! field of a level; `rel.*` / `rel.name` nest the related collection; `*.*` nests every
//! relation one level down.

use super::{CompileError, Relation};
use crate::query::{split_function, Function, Query};
use crate::schema::{Collection, Field, FieldType, Schema};
use indexmap::IndexMap;

/// What one level of the result outputs.
#[derive(Debug)]
pub struct Node<'s> {
    pub collection: &'s Collection,
    pub outputs: Vec<Output<'s>>,
}

#[derive(Debug)]
pub enum Output<'s> {
    Column {
        key: String,
        field: &'s Field,
    },
    /// `year(date)` → key `date_year`.
    Function {
        key: String,
        function: Function,
        field: &'s Field,
    },
    /// `count(o2m)` → key `o2m_count`.
    Count {
        key: String,
        relation: Relation<'s>,
    },
    /// A many-to-one expanded into the related object.
    ToOne {
        key: String,
        relation: Relation<'s>,
        node: Node<'s>,
    },
    /// A one-to-many expanded into an array of related objects, with the `deep` query.
    ToMany {
        key: String,
        relation: Relation<'s>,
        node: Node<'s>,
        query: Box<Query>,
    },
    /// A one-to-many not expanded: the array of related primary keys.
    ToManyKeys {
        key: String,
        relation: Relation<'s>,
    },
}

/// The requested paths below one level: `name → (requested itself, children)`.
#[derive(Debug, Default)]
struct Tree {
    star: bool,
    children: IndexMap<String, Tree>,
}

impl Tree {
    fn insert(&mut self, path: &[&str]) {
        match path {
            [] => {}
            ["*"] => self.star = true,
            [head, rest @ ..] => {
                let child = self.children.entry(head.to_string()).or_default();
                child.insert(rest);
            }
        }
    }
}

pub struct Resolver<'s> {
    pub schema: &'s Schema,
    pub max_depth: usize,
}

impl<'s> Resolver<'s> {
    pub fn resolve(
        &self,
        collection: &'s Collection,
        query: &Query,
    ) -> Result<Node<'s>, CompileError> {
        let fields: Vec<String> = query
            .fields
            .clone()
            .unwrap_or_else(|| vec!["*".to_string()]);
        let mut tree = Tree::default();
        for f in &fields {
            let parts: Vec<&str> = f.split('.').collect();
            if parts.len() > self.max_depth + 1 {
                return Err(CompileError::Invalid(
                    "Max relational depth exceeded".into(),
                ));
            }
            if parts.iter().any(|p| p.is_empty()) {
                return Err(CompileError::Invalid(format!("Invalid field \"{f}\"")));
            }
            tree.insert(&parts);
        }
        // A path like `*.*` puts a `*` child with a star below it.
        self.node(collection, &tree, query, "", 0)
    }

    fn node(
        &self,
        collection: &'s Collection,
        tree: &Tree,
        query: &Query,
        path: &str,
        depth: usize,
    ) -> Result<Node<'s>, CompileError> {
        if depth > self.max_depth {
            return Err(CompileError::Invalid(
                "Max relational depth exceeded".into(),
            ));
        }
        let mut outputs: Vec<Output<'s>> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        let nested_star = tree.children.get("*");
        if tree.star || nested_star.is_some() {
            for field in collection.fields.values() {
                if tree.children.contains_key(&field.name) {
                    continue; // expanded below
                }
                let relation = Relation::of(self.schema, collection, &field.name);
                match (nested_star, relation) {
                    (Some(sub), Some(rel)) => {
                        outputs.push(self.expand(&field.name, rel, sub, query, path, depth)?);
                    }
                    (_, Some(rel @ Relation::ToMany { .. })) => outputs.push(Output::ToManyKeys {
                        key: field.name.clone(),
                        relation: rel,
                    }),
                    (_, _) if field.is_alias() => {}
                    (_, _) => outputs.push(Output::Column {
                        key: field.name.clone(),
                        field,
                    }),
                }
                seen.push(field.name.clone());
            }
        }
        for (name, sub) in &tree.children {
            if name == "*" || seen.contains(name) {
                continue;
            }
            if let Some((function, inner)) =
                split_function(name).map_err(|e| CompileError::Invalid(e.reason))?
            {
                outputs.push(self.function(collection, function, inner, name, path)?);
                continue;
            }
            let field = collection
                .fields
                .get(name)
                .ok_or_else(|| CompileError::field_forbidden(name, &collection.name, path))?;
            let relation = Relation::of(self.schema, collection, name);
            let has_children = sub.star || !sub.children.is_empty();
            match (relation, has_children) {
                (Some(rel), true) => outputs.push(self.expand(name, rel, sub, query, path, depth)?),
                (Some(rel @ Relation::ToMany { .. }), false) => outputs.push(Output::ToManyKeys {
                    key: name.clone(),
                    relation: rel,
                }),
                (None, true) => {
                    return Err(CompileError::Invalid(format!(
                        "Field \"{name}\" in collection \"{}\" is not a relation",
                        collection.name
                    )));
                }
                (_, false) if field.is_alias() => {}
                (_, false) => outputs.push(Output::Column {
                    key: name.clone(),
                    field,
                }),
            }
        }
        // `alias[new]=field`: the same value again under another key.
        if depth == 0 {
            for (key, target) in &query.alias {
                let out =
                    match split_function(target).map_err(|e| CompileError::Invalid(e.reason))? {
                        Some((function, inner)) => {
                            self.function(collection, function, inner, key, path)?
                        }
                        None => {
                            let field = collection.fields.get(target).ok_or_else(|| {
                                CompileError::field_forbidden(target, &collection.name, path)
                            })?;
                            match Relation::of(self.schema, collection, target) {
                                Some(rel) => {
                                    let sub = tree.children.get(key).or(tree.children.get(target));
                                    match sub {
                                        Some(sub) if sub.star || !sub.children.is_empty() => {
                                            self.expand(key, rel, sub, query, path, depth)?
                                        }
                                        _ => match rel {
                                            Relation::ToMany { .. } => Output::ToManyKeys {
                                                key: key.clone(),
                                                relation: rel,
                                            },
                                            _ => Output::Column {
                                                key: key.clone(),
                                                field,
                                            },
                                        },
                                    }
                                }
                                None => Output::Column {
                                    key: key.clone(),
                                    field,
                                },
                            }
                        }
                    };
                outputs.retain(|o| o.key() != key);
                outputs.push(out);
            }
        }
        Ok(Node {
            collection,
            outputs,
        })
    }

    fn expand(
        &self,
        key: &str,
        rel: Relation<'s>,
        sub: &Tree,
        query: &Query,
        path: &str,
        depth: usize,
    ) -> Result<Output<'s>, CompileError> {
        let child_path = if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        };
        let deep = query.deep.get(key).cloned().unwrap_or_default();
        let related = rel.related();
        let node = self.node(related, sub, &deep, &child_path, depth + 1)?;
        Ok(match rel {
            Relation::ToOne { .. } => Output::ToOne {
                key: key.to_string(),
                relation: rel,
                node,
            },
            Relation::ToMany { .. } => Output::ToMany {
                key: key.to_string(),
                relation: rel,
                node,
                query: Box::new(deep),
            },
        })
    }

    fn function(
        &self,
        collection: &'s Collection,
        function: Function,
        inner: &str,
        raw: &str,
        path: &str,
    ) -> Result<Output<'s>, CompileError> {
        let field = collection
            .fields
            .get(inner)
            .ok_or_else(|| CompileError::field_forbidden(inner, &collection.name, path))?;
        let key = format!("{inner}_{}", function.name());
        if function == Function::Count {
            return match Relation::of(self.schema, collection, inner) {
                Some(rel @ Relation::ToMany { .. }) => Ok(Output::Count { key, relation: rel }),
                _ => Err(CompileError::Invalid(format!(
                    "Invalid function \"{raw}\": count() needs a one-to-many field"
                ))),
            };
        }
        check_date_function(function, field, raw)?;
        Ok(Output::Function {
            key,
            function,
            field,
        })
    }
}

/// Date functions apply to date/time fields only (time: hour, minute, second).
pub fn check_date_function(
    function: Function,
    field: &Field,
    raw: &str,
) -> Result<(), CompileError> {
    let ok = match field.field_type {
        FieldType::Date => !matches!(
            function,
            Function::Hour | Function::Minute | Function::Second | Function::Count
        ),
        FieldType::DateTime | FieldType::Timestamp => function != Function::Count,
        FieldType::Time => matches!(
            function,
            Function::Hour | Function::Minute | Function::Second
        ),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(CompileError::Invalid(format!(
            "Invalid function \"{raw}\": \"{}\" is not supported for a {} field",
            function.name(),
            field.field_type.as_str()
        )))
    }
}

impl Output<'_> {
    pub fn key(&self) -> &str {
        match self {
            Output::Column { key, .. }
            | Output::Function { key, .. }
            | Output::Count { key, .. }
            | Output::ToOne { key, .. }
            | Output::ToMany { key, .. }
            | Output::ToManyKeys { key, .. } => key,
        }
    }
}
