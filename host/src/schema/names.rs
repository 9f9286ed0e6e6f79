//! Which names may become tables and columns. Every collection and field name created
//! through Rectus passes here first, so that an identifier reaching SQL text is always a
//! plain name — quoting is the second line of defence, not the first.

/// Longest name PostgreSQL keeps without truncating (63 bytes); MySQL allows 64.
pub const MAX_NAME_LEN: usize = 63;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    #[error("\"{0}\" is not a valid name: use letters, digits and underscores, starting with a letter or underscore")]
    Invalid(String),
    #[error("\"{0}\" is longer than {MAX_NAME_LEN} characters")]
    TooLong(String),
    #[error("\"{0}\" is reserved")]
    Reserved(String),
}

/// Words that cannot name a table or column in at least one supported database, or that
/// the API gives a meaning to.
const RESERVED: &[&str] = &[
    "all",
    "alter",
    "and",
    "any",
    "as",
    "asc",
    "between",
    "by",
    "case",
    "check",
    "column",
    "constraint",
    "create",
    "cross",
    "current_date",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "delete",
    "desc",
    "distinct",
    "drop",
    "else",
    "end",
    "except",
    "exists",
    "false",
    "for",
    "foreign",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "in",
    "index",
    "inner",
    "insert",
    "intersect",
    "into",
    "is",
    "join",
    "key",
    "left",
    "like",
    "limit",
    "not",
    "null",
    "offset",
    "on",
    "or",
    "order",
    "outer",
    "primary",
    "references",
    "right",
    "rowid",
    "select",
    "set",
    "table",
    "then",
    "to",
    "true",
    "union",
    "unique",
    "update",
    "user",
    "using",
    "values",
    "when",
    "where",
    "with",
];

/// Checks a collection (table) name.
pub fn check_collection(name: &str) -> Result<(), NameError> {
    check_identifier(name)?;
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("rectus_")
        || lower.starts_with("directus_")
        || lower.starts_with("sqlite_")
    {
        return Err(NameError::Reserved(name.to_string()));
    }
    Ok(())
}

/// Checks a field (column) name.
pub fn check_field(name: &str) -> Result<(), NameError> {
    check_identifier(name)
}

fn check_identifier(name: &str) -> Result<(), NameError> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(NameError::Invalid(name.to_string()));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong(name.to_string()));
    }
    if RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(NameError::Reserved(name.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_names() {
        for n in ["orders", "_x", "Order_Items2", "a"] {
            assert_eq!(check_collection(n), Ok(()), "{n}");
        }
    }

    #[test]
    fn refuses_quotes_sql_reserved_and_long_names() {
        for n in [
            "",
            "1abc",
            "a b",
            "a\"b",
            "a`b",
            "x;drop table y",
            "o'brien",
            "ümlaut",
            "a-b",
        ] {
            assert!(
                matches!(check_collection(n), Err(NameError::Invalid(_))),
                "{n}"
            );
        }
        assert!(matches!(
            check_collection("select"),
            Err(NameError::Reserved(_))
        ));
        assert!(matches!(check_field("ORDER"), Err(NameError::Reserved(_))));
        assert!(matches!(
            check_collection("rectus_users"),
            Err(NameError::Reserved(_))
        ));
        assert!(matches!(
            check_collection("directus_files"),
            Err(NameError::Reserved(_))
        ));
        assert!(matches!(
            check_collection(&"a".repeat(64)),
            Err(NameError::TooLong(_))
        ));
        assert_eq!(check_collection(&"a".repeat(63)), Ok(()));
    }
}
