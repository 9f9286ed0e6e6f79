//! Strings a guest hands back where the SDK's records hold `&'static str` (error codes,
//! content types): interned, so each distinct value is allocated once. The table is
//! bounded, so a guest that makes up a new string per call cannot grow it without end.
//!
//! Owns: the interning. Must not touch: anything else.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

/// Distinct strings kept; past this, unknown values fall back.
const CAPACITY: usize = 1024;

fn table() -> &'static Mutex<HashSet<&'static str>> {
    static TABLE: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    TABLE.get_or_init(Default::default)
}

fn intern_or(value: &str, fallback: &'static str) -> &'static str {
    let mut t = table().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = t.get(value) {
        return s;
    }
    if t.len() >= CAPACITY {
        return fallback;
    }
    let s: &'static str = Box::leak(value.to_string().into_boxed_str());
    t.insert(s);
    s
}

/// An error code (`FORBIDDEN`, `MY_EXTENSION_FAILED`): upper-case letters, digits and
/// `_`, at most 64; anything else is `INTERNAL_SERVER_ERROR`.
pub fn intern(code: &str) -> &'static str {
    let valid = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        return "INTERNAL_SERVER_ERROR";
    }
    intern_or(code, "INTERNAL_SERVER_ERROR")
}

/// A response's content type; a value that can't be a header is `application/octet-stream`.
pub fn content_type(value: &str) -> &'static str {
    const FALLBACK: &str = "application/octet-stream";
    let valid =
        !value.is_empty() && value.len() <= 200 && value.bytes().all(|b| (0x20..0x7f).contains(&b));
    if !valid {
        return FALLBACK;
    }
    intern_or(value, FALLBACK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_content_types() {
        assert_eq!(intern("FORBIDDEN"), "FORBIDDEN");
        assert!(std::ptr::eq(intern("MY_CODE"), intern("MY_CODE")));
        assert_eq!(intern("not a code"), "INTERNAL_SERVER_ERROR");
        assert_eq!(intern(""), "INTERNAL_SERVER_ERROR");
        assert_eq!(content_type("text/csv"), "text/csv");
        assert_eq!(content_type("bad\nvalue"), "application/octet-stream");
    }
}
