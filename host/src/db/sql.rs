//! Statement building: SQL text made only of fixed keywords and quoted identifiers, with
//! every value carried separately as a bound parameter.

use serde_json::Value as Json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Sqlite,
    Postgres,
    #[serde(rename = "mysql")]
    MySql,
}

impl Dialect {
    /// Quotes an identifier, doubling any quote character inside it. Identifiers reaching
    /// here come from the schema snapshot or were validated as names; quoting is the second
    /// line of defence, not the first.
    pub fn quote(self, ident: &str) -> String {
        let q = match self {
            Dialect::MySql => '`',
            _ => '"',
        };
        let mut out = String::with_capacity(ident.len() + 2);
        out.push(q);
        for c in ident.chars() {
            if c == q {
                out.push(q);
            }
            out.push(c);
        }
        out.push(q);
        out
    }

    /// The name Directus uses for the vendor in snapshots (`vendor`).
    pub fn vendor(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
            Dialect::MySql => "mysql",
        }
    }
}

/// A value bound to a statement parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(Value::Null)
    }
}

impl Value {
    /// A JSON value as a parameter: scalars map to themselves, arrays and objects to their
    /// JSON text (stored in json/text columns).
    pub fn from_json(v: &Json) -> Value {
        match v {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(0.0)),
            },
            Json::String(s) => Value::Text(s.clone()),
            other => Value::Text(other.to_string()),
        }
    }

    /// JSON text for a json/text column; `None` stays NULL.
    pub fn json_text(v: Option<&Json>) -> Value {
        match v {
            None | Some(Json::Null) => Value::Null,
            Some(v) => Value::Text(v.to_string()),
        }
    }
}

/// A statement under construction: text plus the values of its placeholders.
#[derive(Debug, Clone)]
pub struct Sql {
    dialect: Dialect,
    text: String,
    params: Vec<Value>,
    /// Byte ranges of the `$n` placeholders in `text` (PostgreSQL), so that fragments
    /// built separately can be appended and renumbered exactly.
    placeholders: Vec<(usize, usize)>,
}

impl Sql {
    pub fn new(dialect: Dialect) -> Self {
        Sql {
            dialect,
            text: String::with_capacity(128),
            params: Vec::new(),
            placeholders: Vec::new(),
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Appends fixed SQL text (keywords, punctuation). Never user values.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a quoted identifier.
    pub fn ident(&mut self, name: &str) -> &mut Self {
        let quoted = self.dialect.quote(name);
        self.text.push_str(&quoted);
        self
    }

    /// Appends a placeholder and records its value.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.params.push(value.into());
        match self.dialect {
            Dialect::Postgres => {
                let start = self.text.len();
                self.text.push('$');
                self.text.push_str(&self.params.len().to_string());
                self.placeholders.push((start, self.text.len()));
            }
            _ => self.text.push('?'),
        }
        self
    }

    /// Appends a fragment built separately, renumbering its placeholders to follow ours.
    pub fn append(&mut self, other: &Sql) -> &mut Self {
        debug_assert_eq!(self.dialect, other.dialect);
        if self.dialect != Dialect::Postgres || other.params.is_empty() {
            self.text.push_str(&other.text);
            self.params.extend(other.params.iter().cloned());
            return self;
        }
        let mut last = 0;
        for &(start, end) in &other.placeholders {
            self.text.push_str(&other.text[last..start]);
            let n: usize = other.text[start + 1..end]
                .parse()
                .expect("placeholders are $n");
            let begin = self.text.len();
            self.text.push('$');
            self.text.push_str(&(self.params.len() + n).to_string());
            self.placeholders.push((begin, self.text.len()));
            last = end;
        }
        self.text.push_str(&other.text[last..]);
        self.params.extend(other.params.iter().cloned());
        self
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Appends a placeholder cast to `pg_type` on PostgreSQL, which refuses a text
    /// parameter where it expects `uuid`, `json` or a timestamp; other databases coerce.
    pub fn bind_cast(&mut self, value: impl Into<Value>, pg_type: Option<&str>) -> &mut Self {
        match (self.dialect, pg_type) {
            (Dialect::Postgres, Some(ty)) => {
                self.text.push_str("CAST(");
                self.bind(value);
                self.text.push_str(" AS ");
                self.text.push_str(ty);
                self.text.push(')');
                self
            }
            _ => self.bind(value),
        }
    }

    /// Appends `a, b, c` of quoted identifiers.
    pub fn idents<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) -> &mut Self {
        for (i, n) in names.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.ident(n);
        }
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn params(&self) -> &[Value] {
        &self.params
    }

    /// The statement with its parameters bound, for any of the three drivers.
    pub(super) fn bound<'q, DB>(
        &'q self,
    ) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
    where
        DB: sqlx::Database,
        Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        f64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        let mut q = sqlx::query::<DB>(&self.text);
        for p in &self.params {
            q = match p {
                Value::Null => q.bind(None::<String>),
                Value::Bool(b) => q.bind(*b),
                Value::Int(i) => q.bind(*i),
                Value::Float(f) => q.bind(*f),
                Value::Text(s) => q.bind(s.as_str()),
            };
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_escapes_identifiers_per_dialect() {
        assert_eq!(Dialect::Postgres.quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(Dialect::MySql.quote("a`b"), "`a``b`");
        assert_eq!(Dialect::Sqlite.quote("orders"), "\"orders\"");
    }

    #[test]
    fn values_never_enter_the_text() {
        let mut sql = Sql::new(Dialect::Postgres);
        sql.push("SELECT * FROM ")
            .ident("orders")
            .push(" WHERE ")
            .ident("name")
            .push(" = ")
            .bind("x'; DROP TABLE orders; --")
            .push(" AND ")
            .ident("id")
            .push(" = ")
            .bind(3i64);
        assert_eq!(
            sql.text(),
            "SELECT * FROM \"orders\" WHERE \"name\" = $1 AND \"id\" = $2"
        );
        assert_eq!(sql.params().len(), 2);
        let mut a = Sql::new(Dialect::Postgres);
        a.push("a = ").bind(1i64);
        let mut b = Sql::new(Dialect::Postgres);
        b.push(" AND \"$1x\" = ")
            .bind(2i64)
            .push(" AND c = ")
            .bind(3i64);
        a.append(&b).push(" AND d = ").bind(4i64);
        assert_eq!(a.text(), "a = $1 AND \"$1x\" = $2 AND c = $3 AND d = $4");
        assert_eq!(
            a.params(),
            &[Value::Int(1), Value::Int(2), Value::Int(3), Value::Int(4)]
        );
        let mut cast = Sql::new(Dialect::Postgres);
        cast.bind_cast("x", Some("uuid"));
        assert_eq!(cast.text(), "CAST($1 AS uuid)");
        let mut my = Sql::new(Dialect::MySql);
        my.bind_cast("x", Some("uuid"));
        assert_eq!(my.text(), "?");
        let mut my = Sql::new(Dialect::MySql);
        my.push("SELECT ").bind(1i64).push(", ").bind(2i64);
        assert_eq!(my.text(), "SELECT ?, ?");
    }
}
