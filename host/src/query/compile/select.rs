//! Resolving `fields` against the schema into a selection tree: which columns,
//! functions and relations each level outputs, under which keys. `*` expands to every
//! field of a level; `rel.*` / `rel.name` nest the related collection; `*.*` nests every
//! relation one level down.

use super::{AnyRelation, CompileError, Relation};
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
    /// A many-to-any item expanded: per allowed collection the fields to output; a row
    /// naming a collection without a branch keeps its raw key.
    ToAny {
        key: String,
        relation: AnyRelation<'s>,
        branches: Vec<(&'s Collection, Node<'s>)>,
    },
}

/// The requested paths below one level: `name → (requested itself, children)`.
#[derive(Debug, Default, Clone)]
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

    /// Adds `other`'s paths to these.
    fn merge(&mut self, other: &Tree) {
        self.star |= other.star;
        for (k, v) in &other.children {
            self.children.entry(k.clone()).or_default().merge(v);
        }
    }
}

pub struct Resolver<'s> {
    pub schema: &'s Schema,
    pub max_depth: usize,
    /// With a caller's permissions, the unrestricted schema: a relation into a collection
    /// the caller may not read is silently left out, as in Directus.
    pub full: Option<&'s Schema>,
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
        // Names asked for below, `item:headings` counting as `item`.
        let named: Vec<&str> = tree
            .children
            .keys()
            .map(|k| k.split_once(':').map(|(f, _)| f).unwrap_or(k))
            .collect();
        if tree.star || nested_star.is_some() {
            for field in collection.fields.values() {
                if named.contains(&field.name.as_str()) {
                    continue; // expanded below
                }
                if let (Some(sub), Some(any)) = (
                    nested_star,
                    AnyRelation::of(self.schema, collection, &field.name),
                ) {
                    outputs.push(self.expand_any(&field.name, any, Some(sub), &[], path, depth)?);
                    seen.push(field.name.clone());
                    continue;
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
        // Many-to-any items: the unscoped tree and the per-collection scopes, by field.
        type AnyTrees<'t> = (Option<&'t Tree>, Vec<(&'t str, &'t Tree)>);
        let mut any: IndexMap<&str, AnyTrees<'_>> = IndexMap::new();
        for (name, sub) in &tree.children {
            if name == "*" || seen.contains(name) {
                continue;
            }
            if let Some((field, scope)) = name.split_once(':') {
                if !collection.fields.contains_key(field) {
                    return Err(CompileError::field_forbidden(field, &collection.name, path));
                }
                if AnyRelation::of(self.schema, collection, field).is_none() {
                    return Err(CompileError::Invalid(format!(
                        "Field \"{field}\" in collection \"{}\" is not a many-to-any item; it can't be scoped to \"{scope}\"",
                        collection.name
                    )));
                }
                if !sub.star && sub.children.is_empty() {
                    return Err(CompileError::Invalid(format!(
                        "Invalid field \"{name}\": a scoped many-to-any item needs fields"
                    )));
                }
                any.entry(field).or_default().1.push((scope, sub));
                continue;
            }
            // `item` next to `item:headings.title`: the expanded item stands for both.
            let scoped_too = tree
                .children
                .keys()
                .any(|k| k.split_once(':').is_some_and(|(f, _)| f == name));
            if (sub.star || !sub.children.is_empty() || scoped_too)
                && AnyRelation::of(self.schema, collection, name).is_some()
            {
                if sub.star || !sub.children.is_empty() {
                    any.entry(name.as_str()).or_default().0 = Some(sub);
                }
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
                (None, true)
                    if super::access::hidden_relation(self.full, collection, name).is_some() => {}
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
        for (field, (plain, scoped)) in any {
            let rel = AnyRelation::of(self.schema, collection, field).expect("checked above");
            outputs.push(self.expand_any(field, rel, plain, &scoped, path, depth)?);
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

    /// A many-to-any item: one branch per allowed collection that the unscoped tree
    /// (`item.*`) or a scope (`item:headings.title`) asks fields of.
    fn expand_any(
        &self,
        key: &str,
        rel: AnyRelation<'s>,
        plain: Option<&Tree>,
        scoped: &[(&str, &Tree)],
        path: &str,
        depth: usize,
    ) -> Result<Output<'s>, CompileError> {
        if depth + 1 > self.max_depth {
            return Err(CompileError::Invalid(
                "Max relational depth exceeded".into(),
            ));
        }
        for (scope, _) in scoped {
            rel.target(self.schema, scope)?;
        }
        let mut branches = Vec::new();
        for target in &rel.allowed {
            let mut merged: Option<Tree> = plain.cloned();
            for (scope, sub) in scoped {
                if *scope == target.name {
                    merged.get_or_insert_with(Tree::default).merge(sub);
                }
            }
            let Some(tree) = merged else {
                continue;
            };
            let child_path = if path.is_empty() {
                format!("{key}:{}", target.name)
            } else {
                format!("{path}.{key}:{}", target.name)
            };
            let node = self.node(target, &tree, &Query::default(), &child_path, depth + 1)?;
            branches.push((*target, node));
        }
        Ok(Output::ToAny {
            key: key.to_string(),
            relation: rel,
            branches,
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
            | Output::ToManyKeys { key, .. }
            | Output::ToAny { key, .. } => key,
        }
    }
}
