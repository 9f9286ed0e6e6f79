//! A generated-data query matrix: ~300 orders over 40 customers made by a seeded PRNG
//! (NULLs, empty strings, unicode, `%`/`_` in text, negative and fractional amounts, dates
//! across years), written with raw SQL; then every filter operator, relational filters,
//! logic, date functions, `count()`, sorts, paging, search, aggregates and `meta` are read
//! through `GET /items/...` on the real server and compared with the result computed here,
//! in Rust, from the generated rows.
//!
//! Where the databases themselves differ (how `LOWER` treats non-ASCII letters, whether
//! `=` ignores case under MariaDB's default collation, where NULLs sort), the expected
//! result follows what the database does, probed at the start. Negated operators never
//! match NULL, as Directus's `NOT col …` does.

use crate::harness::{Kind, Server, TestDb};
use crate::on_every_db;
use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// xorshift64*: small, deterministic, good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Debug, Clone)]
struct Customer {
    id: i64,
    name: String,
    country: Option<String>,
    rank: i64,
}

#[derive(Debug, Clone)]
struct Order {
    id: i64,
    customer: Option<i64>,
    amount: Option<f64>,
    note: Option<String>,
    status: String,
    created: NaiveDateTime,
}

const NAMES: &[&str] = &[
    "Ada",
    "bob",
    "Çelik",
    "Zoë",
    "50% Club",
    "under_score",
    "",
    "Mixed Case",
    "ÅSA",
    "Nguyễn",
    "club 500",
    "Ünïcödé",
];
const NOTES: &[&str] = &[
    "",
    "first order",
    "50% off",
    "500 off",
    "a_b_c",
    "abc",
    "Ünïcödé gift",
    "UPPER case",
    "lower case",
    "percent%sign",
    "ends with x",
    "x starts",
    "日本語 テキスト",
];
const STATUSES: &[&str] = &["Paid", "Pending", "Refunded", "paid"];

fn generate() -> (Vec<Customer>, Vec<Order>) {
    let mut rng = Rng(0x5EED_CAFE_F00D_1234);
    let customers: Vec<Customer> = (1..=40)
        .map(|id| Customer {
            id,
            name: rng.pick(NAMES).to_string(),
            country: if rng.chance(20) {
                None
            } else {
                Some(rng.pick(&["DE", "fr", "", "Ünited"]).to_string())
            },
            rank: rng.below(50) as i64 - 5,
        })
        .collect();
    let orders: Vec<Order> = (1..=300)
        .map(|id| {
            let created = NaiveDate::from_ymd_opt(
                2019 + rng.below(8) as i32,
                1 + rng.below(12) as u32,
                1 + rng.below(28) as u32,
            )
            .unwrap()
            .and_hms_opt(
                rng.below(24) as u32,
                rng.below(60) as u32,
                rng.below(60) as u32,
            )
            .unwrap();
            Order {
                id,
                // Customers 39 and 40 get no orders (for `_none` and `count() = 0`).
                customer: if rng.chance(8) {
                    None
                } else {
                    Some(1 + rng.below(38) as i64)
                },
                amount: if rng.chance(10) {
                    None
                } else {
                    Some((rng.below(2400) as i64 - 400) as f64 * 0.25)
                },
                note: if rng.chance(15) {
                    None
                } else {
                    Some(rng.pick(NOTES).to_string())
                },
                status: rng.pick(STATUSES).to_string(),
                created,
            }
        })
        .collect();
    let mut orders = orders;
    // Boundary rows the filters below hit exactly.
    orders[0].amount = Some(10.0);
    orders[0].created = NaiveDate::from_ymd_opt(2022, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    orders[1].amount = Some(-5.0);
    orders[2].amount = Some(50.0);
    (customers, orders)
}

/// What the database does that the model must follow.
struct Db {
    kind: Kind,
    /// `LOWER` lower-cases non-ASCII letters (not SQLite's, nor PostgreSQL's in the C
    /// locale).
    unicode_lower: bool,
    /// `=`/`IN` ignore case (MariaDB's default collations).
    ci_equals: bool,
}

impl Db {
    fn lower(&self, s: &str) -> String {
        if self.unicode_lower {
            s.to_lowercase()
        } else {
            s.to_ascii_lowercase()
        }
    }
    fn text_eq(&self, a: &str, b: &str) -> bool {
        if self.ci_equals {
            a.to_lowercase() == b.to_lowercase()
        } else {
            a == b
        }
    }
    /// NULLs sort after every value ascending (PostgreSQL), or before (SQLite, MariaDB).
    fn nulls_last(&self) -> bool {
        self.kind == Kind::Postgres
    }
}

fn sql_text(s: &str) -> String {
    assert!(!s.contains('\'') && !s.contains('\\'));
    format!("'{s}'")
}

fn opt<T>(v: &Option<T>, f: impl Fn(&T) -> String) -> String {
    v.as_ref().map(f).unwrap_or_else(|| "NULL".into())
}

async fn setup(kind: Kind) -> (TestDb, Server, Vec<Customer>, Vec<Order>, Db) {
    let db = TestDb::create(kind).await;
    let (serial, float, datetime) = match kind {
        Kind::Postgres => ("integer primary key", "double precision", "timestamp"),
        Kind::MySql => ("int primary key", "double", "datetime"),
        Kind::Sqlite => ("integer primary key", "real", "datetime"),
    };
    db.exec(&format!(
        "CREATE TABLE customers (id {serial}, name varchar(100), country varchar(20), {r} int);\n\
         CREATE TABLE orders (id {serial}, customer int references customers(id), amount {float}, note varchar(200), status varchar(20) not null, created {datetime})",
        r = if kind == Kind::MySql { "`rank`" } else { "\"rank\"" }
    ))
    .await;
    let (customers, orders) = generate();
    let rows: Vec<String> = customers
        .iter()
        .map(|c| {
            format!(
                "({}, {}, {}, {})",
                c.id,
                sql_text(&c.name),
                opt(&c.country, |s| sql_text(s)),
                c.rank
            )
        })
        .collect();
    db.exec(&format!("INSERT INTO customers VALUES {}", rows.join(", ")))
        .await;
    for chunk in orders.chunks(100) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|o| {
                format!(
                    "({}, {}, {}, {}, {}, '{}')",
                    o.id,
                    opt(&o.customer, |c| c.to_string()),
                    opt(&o.amount, |a| format!("{a:.2}")),
                    opt(&o.note, |s| sql_text(s)),
                    sql_text(&o.status),
                    o.created.format("%Y-%m-%d %H:%M:%S")
                )
            })
            .collect();
        db.exec(&format!("INSERT INTO orders VALUES {}", rows.join(", ")))
            .await;
    }
    let mut server = Server::start(&db).await;
    server.stop();
    let q = |s: &str| match kind {
        Kind::MySql => format!("`{s}`"),
        _ => format!("\"{s}\""),
    };
    db.exec(&format!(
        "INSERT INTO rectus_relations (many_collection, many_field, one_collection, one_field, one_deselect_action) VALUES ('orders', 'customer', 'customers', 'orders', 'nullify');\n\
         INSERT INTO rectus_fields (collection, field, special, {h}, {r}, {s}) VALUES ('customers', 'orders', 'o2m', {f}, {f}, {t})",
        h = q("hidden"),
        r = q("readonly"),
        s = q("searchable"),
        t = if kind == Kind::Postgres { "true" } else { "1" },
        f = if kind == Kind::Postgres { "false" } else { "0" },
    ))
    .await;
    let probe = db
        .query("SELECT LOWER('ÜÀ') AS l, CASE WHEN 'a' = 'A' THEN 1 ELSE 0 END AS ci")
        .await;
    let model = Db {
        kind,
        unicode_lower: probe[0]["l"] == "üà",
        ci_equals: probe[0]["ci"].to_string().trim_matches('"') == "1",
    };
    let server = Server::start(&db).await;
    (db, server, customers, orders, model)
}

/// Percent-encodes a query-string value.
fn enc(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `key=value` pairs into a query string, values encoded.
fn qs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

async fn ids(server: &Server, collection: &str, query: &str) -> Vec<i64> {
    let limit = if query.contains("limit=") {
        ""
    } else {
        "limit=-1&"
    };
    let r = server
        .get(&format!("/items/{collection}?fields=id&{limit}{query}"))
        .await;
    let data = r.assert_ok();
    data.as_array()
        .unwrap_or_else(|| panic!("{query}: {}", r.body))
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect()
}

type Pred<'a> = Box<dyn Fn(&Order) -> bool + 'a>;

fn text_op<'a>(get: fn(&Order) -> Option<&str>, f: impl Fn(&str) -> bool + 'a) -> Pred<'a> {
    Box::new(move |o| get(o).is_some_and(&f))
}

/// Negated operators never match a NULL field (Directus's `NOT col LIKE ?`).
fn negated_text_op<'a>(get: fn(&Order) -> Option<&str>, f: impl Fn(&str) -> bool + 'a) -> Pred<'a> {
    Box::new(move |o| get(o).is_some_and(|v| !f(v)))
}

fn note(o: &Order) -> Option<&str> {
    o.note.as_deref()
}

async fn filters_match_the_model(kind: Kind) {
    let (_db, server, customers, orders, m) = setup(kind).await;
    let m = &m;
    let customer = |o: &Order| {
        o.customer
            .and_then(|id| customers.iter().find(|c| c.id == id))
    };
    let amount_in = |o: &Order, xs: &[f64]| o.amount.is_some_and(|a| xs.contains(&a));
    let at = |y, mo, d| {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
    };
    let cases: Vec<(Vec<(&str, &str)>, Pred)> = vec![
        // Numbers, NULLs included.
        (
            vec![("filter[amount][_eq]", "10")],
            Box::new(|o| o.amount == Some(10.0)),
        ),
        // Like Directus, `_neq` does not match NULL.
        (
            vec![("filter[amount][_neq]", "10")],
            Box::new(|o| o.amount.is_some_and(|a| a != 10.0)),
        ),
        (
            vec![("filter[amount][_lt]", "-5")],
            Box::new(|o| o.amount.is_some_and(|a| a < -5.0)),
        ),
        (
            vec![("filter[amount][_lte]", "-5")],
            Box::new(|o| o.amount.is_some_and(|a| a <= -5.0)),
        ),
        (
            vec![("filter[amount][_gt]", "50")],
            Box::new(|o| o.amount.is_some_and(|a| a > 50.0)),
        ),
        (
            vec![("filter[amount][_gte]", "50")],
            Box::new(|o| o.amount.is_some_and(|a| a >= 50.0)),
        ),
        (
            vec![("filter[amount][_gte]", "12.25")],
            Box::new(|o| o.amount.is_some_and(|a| a >= 12.25)),
        ),
        (
            vec![("filter[amount][_in]", "10,-5,50,0.25")],
            Box::new(move |o| amount_in(o, &[10.0, -5.0, 50.0, 0.25])),
        ),
        (
            vec![("filter[amount][_nin]", "10,-5,50")],
            Box::new(move |o| o.amount.is_some() && !amount_in(o, &[10.0, -5.0, 50.0])),
        ),
        (
            vec![("filter[amount][_null]", "true")],
            Box::new(|o| o.amount.is_none()),
        ),
        (
            vec![("filter[amount][_null]", "false")],
            Box::new(|o| o.amount.is_some()),
        ),
        (
            vec![("filter[amount][_nnull]", "true")],
            Box::new(|o| o.amount.is_some()),
        ),
        (
            vec![("filter[amount][_between]", "-5,50")],
            Box::new(|o| o.amount.is_some_and(|a| (-5.0..=50.0).contains(&a))),
        ),
        (
            vec![("filter[amount][_nbetween]", "-5,50")],
            Box::new(|o| o.amount.is_some_and(|a| !(-5.0..=50.0).contains(&a))),
        ),
        (
            vec![("filter[id][_in]", "1,2,3,300,301")],
            Box::new(|o| [1, 2, 3, 300].contains(&o.id)),
        ),
        (
            vec![("filter[customer][_null]", "true")],
            Box::new(|o| o.customer.is_none()),
        ),
        // Text equality: case-insensitive where the collation is.
        (
            vec![("filter[status][_eq]", "Paid")],
            Box::new(move |o| m.text_eq(&o.status, "Paid")),
        ),
        (
            vec![("filter[status][_neq]", "Paid")],
            Box::new(move |o| !m.text_eq(&o.status, "Paid")),
        ),
        (
            vec![("filter[status][_in]", "Pending,Refunded")],
            Box::new(move |o| m.text_eq(&o.status, "Pending") || m.text_eq(&o.status, "Refunded")),
        ),
        (
            vec![("filter[status][_nin]", "Pending,Refunded")],
            Box::new(move |o| {
                !(m.text_eq(&o.status, "Pending") || m.text_eq(&o.status, "Refunded"))
            }),
        ),
        (
            vec![("filter[note][_null]", "true")],
            Box::new(|o| o.note.is_none()),
        ),
        (
            vec![("filter[note][_nnull]", "true")],
            Box::new(|o| o.note.is_some()),
        ),
        (
            vec![("filter[note][_empty]", "true")],
            Box::new(|o| o.note.as_deref().is_none_or(str::is_empty)),
        ),
        (
            vec![("filter[note][_nempty]", "true")],
            Box::new(|o| o.note.as_deref().is_some_and(|n| !n.is_empty())),
        ),
        (
            vec![("filter[note][_empty]", "false")],
            Box::new(|o| o.note.as_deref().is_some_and(|n| !n.is_empty())),
        ),
        // Case-sensitive text operators, with `%` and `_` taken literally.
        (
            vec![("filter[note][_contains]", "50%")],
            text_op(note, |n| n.contains("50%")),
        ),
        (
            vec![("filter[note][_contains]", "%")],
            text_op(note, |n| n.contains('%')),
        ),
        (
            vec![("filter[note][_contains]", "_")],
            text_op(note, |n| n.contains('_')),
        ),
        (
            vec![("filter[note][_contains]", "case")],
            text_op(note, |n| n.contains("case")),
        ),
        (
            vec![("filter[note][_contains]", "CASE")],
            text_op(note, |n| n.contains("CASE")),
        ),
        (
            vec![("filter[note][_contains]", "ödé")],
            text_op(note, |n| n.contains("ödé")),
        ),
        (
            vec![("filter[note][_contains]", "テキ")],
            text_op(note, |n| n.contains("テキ")),
        ),
        (
            vec![("filter[note][_ncontains]", "off")],
            negated_text_op(note, |n| n.contains("off")),
        ),
        (
            vec![("filter[note][_starts_with]", "a_")],
            text_op(note, |n| n.starts_with("a_")),
        ),
        (
            vec![("filter[note][_nstarts_with]", "x")],
            negated_text_op(note, |n| n.starts_with('x')),
        ),
        (
            vec![("filter[note][_ends_with]", "x")],
            text_op(note, |n| n.ends_with('x')),
        ),
        (
            vec![("filter[note][_nends_with]", "case")],
            negated_text_op(note, |n| n.ends_with("case")),
        ),
        // Case-insensitive: the database lower-cases the column, Rectus the value.
        (
            vec![("filter[note][_icontains]", "CASE")],
            text_op(note, move |n| m.lower(n).contains("case")),
        ),
        (
            vec![("filter[note][_icontains]", "ÜNÏ")],
            text_op(note, move |n| m.lower(n).contains("ünï")),
        ),
        (
            vec![("filter[note][_icontains]", "%S")],
            text_op(note, move |n| m.lower(n).contains("%s")),
        ),
        (
            vec![("filter[note][_nicontains]", "Off")],
            negated_text_op(note, move |n| m.lower(n).contains("off")),
        ),
        (
            vec![("filter[note][_istarts_with]", "UPP")],
            text_op(note, move |n| m.lower(n).starts_with("upp")),
        ),
        (
            vec![("filter[note][_nistarts_with]", "Lower")],
            negated_text_op(note, move |n| m.lower(n).starts_with("lower")),
        ),
        (
            vec![("filter[note][_iends_with]", "X")],
            text_op(note, move |n| m.lower(n).ends_with('x')),
        ),
        (
            vec![("filter[note][_niends_with]", "GIFT")],
            negated_text_op(note, move |n| m.lower(n).ends_with("gift")),
        ),
        // Dates, with a row exactly on the boundary.
        (
            vec![("filter[created][_gte]", "2022-01-01T00:00:00")],
            Box::new(move |o| o.created >= at(2022, 1, 1)),
        ),
        (
            vec![("filter[created][_lt]", "2022-01-01T00:00:00")],
            Box::new(move |o| o.created < at(2022, 1, 1)),
        ),
        (
            vec![("filter[created][_eq]", "2022-01-01T00:00:00")],
            Box::new(move |o| o.created == at(2022, 1, 1)),
        ),
        (
            vec![(
                "filter[created][_between]",
                "2020-06-01T00:00:00,2021-06-01T00:00:00",
            )],
            Box::new(move |o| o.created >= at(2020, 6, 1) && o.created <= at(2021, 6, 1)),
        ),
        (
            vec![("filter[year(created)][_eq]", "2022")],
            Box::new(|o| o.created.year() == 2022),
        ),
        (
            vec![("filter[month(created)][_in]", "1,2,12")],
            Box::new(|o| [1, 2, 12].contains(&o.created.month())),
        ),
        (
            vec![("filter[day(created)][_lte]", "3")],
            Box::new(|o| o.created.day() <= 3),
        ),
        (
            vec![("filter[hour(created)][_gte]", "20")],
            Box::new(|o| o.created.hour() >= 20),
        ),
        // Many-to-one, LEFT JOINed as Directus does: an order without a customer is
        // tested against a customer of NULLs.
        (
            vec![("filter[customer][rank][_gt]", "20")],
            Box::new(move |o| customer(o).is_some_and(|c| c.rank > 20)),
        ),
        (
            vec![("filter[customer][country][_null]", "true")],
            Box::new(move |o| customer(o).is_none_or(|c| c.country.is_none())),
        ),
        (
            vec![("filter[customer][id][_null]", "true")],
            Box::new(move |o| customer(o).is_none()),
        ),
        (
            vec![("filter[customer][country][_empty]", "true")],
            Box::new(move |o| {
                customer(o).is_none_or(|c| c.country.as_deref().is_none_or(str::is_empty))
            }),
        ),
        // `_neq` does not match NULL, nor an order without a customer (a row of NULLs).
        (
            vec![("filter[customer][country][_neq]", "DE")],
            Box::new(move |o| {
                customer(o)
                    .is_some_and(|c| c.country.as_deref().is_some_and(|x| !m.text_eq(x, "DE")))
            }),
        ),
        (
            vec![("filter[customer][name][_icontains]", "club")],
            Box::new(move |o| customer(o).is_some_and(|c| m.lower(&c.name).contains("club"))),
        ),
        (
            vec![("filter[customer][name][_starts_with]", "50%")],
            Box::new(move |o| customer(o).is_some_and(|c| c.name.starts_with("50%"))),
        ),
        // Logic, nested.
        (
            vec![
                ("filter[_or][0][_and][0][status][_eq]", "Refunded"),
                ("filter[_or][0][_and][1][amount][_gt]", "100"),
                ("filter[_or][1][note][_null]", "true"),
            ],
            Box::new(move |o| {
                (m.text_eq(&o.status, "Refunded") && o.amount.is_some_and(|a| a > 100.0))
                    || o.note.is_none()
            }),
        ),
        (
            vec![
                ("filter[_and][0][_or][0][amount][_lt]", "0"),
                ("filter[_and][0][_or][1][amount][_gt]", "500"),
                ("filter[_and][1][year(created)][_gte]", "2023"),
            ],
            Box::new(|o| {
                o.amount.is_some_and(|a| !(0.0..=500.0).contains(&a)) && o.created.year() >= 2023
            }),
        ),
        // Search: text fields case-insensitively, number fields when the term is one.
        (
            vec![("search", "CLUB")],
            Box::new(move |o| {
                m.lower(&o.status).contains("club")
                    || o.note
                        .as_deref()
                        .is_some_and(|n| m.lower(n).contains("club"))
            }),
        ),
        (
            vec![("search", "off")],
            Box::new(move |o| {
                o.note
                    .as_deref()
                    .is_some_and(|n| m.lower(n).contains("off"))
            }),
        ),
        (
            vec![("search", "10")],
            Box::new(move |o| {
                o.id == 10
                    || o.customer == Some(10)
                    || o.amount == Some(10.0)
                    || o.note.as_deref().is_some_and(|n| n.contains("10"))
                    || o.status.contains("10")
            }),
        ),
    ];
    for (pairs, pred) in &cases {
        let q = qs(pairs);
        let got = ids(&server, "orders", &format!("sort=id&{q}")).await;
        let want: Vec<i64> = orders.iter().filter(|o| pred(o)).map(|o| o.id).collect();
        assert_eq!(got, want, "{kind:?}: {q}");
    }
    // The matrix means something only if the cases select varied, non-trivial sets.
    let nontrivial = cases
        .iter()
        .filter(|(_, p)| {
            let n = orders.iter().filter(|o| p(o)).count();
            n > 0 && n < orders.len()
        })
        .count();
    assert!(
        nontrivial + 3 >= cases.len(),
        "{nontrivial} of {}",
        cases.len()
    );

    // One-to-many quantifiers and count() from the customers' side.
    let of = |c: &Customer| -> Vec<&Order> {
        orders.iter().filter(|o| o.customer == Some(c.id)).collect()
    };
    type CPred<'a> = Box<dyn Fn(&Customer) -> bool + 'a>;
    let ccases: Vec<(Vec<(&str, &str)>, CPred)> = vec![
        (
            vec![("filter[orders][_some][amount][_gt]", "550")],
            Box::new(|c| of(c).iter().any(|o| o.amount.is_some_and(|a| a > 550.0))),
        ),
        (
            vec![("filter[orders][_none][amount][_lt]", "0")],
            Box::new(|c| !of(c).iter().any(|o| o.amount.is_some_and(|a| a < 0.0))),
        ),
        (
            vec![("filter[orders][status][_eq]", "Refunded")],
            Box::new(move |c| of(c).iter().any(|o| m.text_eq(&o.status, "Refunded"))),
        ),
        (
            vec![("filter[count(orders)][_gt]", "8")],
            Box::new(|c| of(c).len() > 8),
        ),
        (
            vec![("filter[count(orders)][_eq]", "0")],
            Box::new(|c| of(c).is_empty()),
        ),
        (
            vec![("filter[name][_empty]", "true")],
            Box::new(|c| c.name.is_empty()),
        ),
        (
            vec![("filter[country][_neq]", "DE")],
            Box::new(move |c| c.country.as_deref().is_some_and(|x| !m.text_eq(x, "DE"))),
        ),
    ];
    for (pairs, pred) in &ccases {
        let q = qs(pairs);
        let got = ids(&server, "customers", &format!("sort=id&{q}")).await;
        let want: Vec<i64> = customers.iter().filter(|c| pred(c)).map(|c| c.id).collect();
        assert_eq!(got, want, "{kind:?}: {q}");
    }
}
on_every_db!(filters_match_the_model_on_every_db, filters_match_the_model);

/// Compares optional keys with NULLs first or last, as the database sorts them.
fn cmp_opt<T: PartialOrd>(a: Option<T>, b: Option<T>, nulls_last: bool) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) if nulls_last => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) if nulls_last => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => a.partial_cmp(&b).unwrap(),
    }
}

async fn sorts_paging_aggregates_and_meta(kind: Kind) {
    let (_db, server, customers, orders, m) = setup(kind).await;
    let nl = m.nulls_last();
    let rank = |o: &Order| {
        o.customer
            .and_then(|id| customers.iter().find(|c| c.id == id))
            .map(|c| c.rank)
    };
    type Cmp<'a> = Box<dyn Fn(&Order, &Order) -> Ordering + 'a>;
    let sorts: Vec<(&str, Cmp)> = vec![
        // Descending reverses NULL placement too.
        ("-amount", Box::new(|a, b| cmp_opt(b.amount, a.amount, nl))),
        ("amount", Box::new(|a, b| cmp_opt(a.amount, b.amount, nl))),
        ("-created", Box::new(|a, b| b.created.cmp(&a.created))),
        (
            "year(created),-amount",
            Box::new(|a, b| {
                a.created
                    .year()
                    .cmp(&b.created.year())
                    .then(cmp_opt(b.amount, a.amount, nl))
            }),
        ),
        (
            "customer.rank,-id",
            Box::new(|a, b| cmp_opt(rank(a), rank(b), nl).then(b.id.cmp(&a.id))),
        ),
        (
            "-customer",
            Box::new(|a, b| cmp_opt(b.customer, a.customer, nl)),
        ),
    ];
    for (sort, cmp) in &sorts {
        let mut want = orders.clone();
        // The compiler ends every sort with the primary key, ascending.
        want.sort_by(|a, b| cmp(a, b).then(a.id.cmp(&b.id)));
        let want: Vec<i64> = want.iter().map(|o| o.id).collect();
        let got = ids(&server, "orders", &format!("sort={sort}")).await;
        assert_eq!(got, want, "{kind:?}: sort={sort}");
        // Paging slices the same order.
        let got = ids(&server, "orders", &format!("sort={sort}&limit=7&page=3")).await;
        assert_eq!(got, want[14..21].to_vec(), "{kind:?}: sort={sort} page 3");
        let got = ids(
            &server,
            "orders",
            &format!("sort={sort}&limit=10&offset=295"),
        )
        .await;
        assert_eq!(got, want[295..].to_vec(), "{kind:?}: sort={sort} offset");
    }
    assert_eq!(ids(&server, "orders", "limit=0").await, Vec::<i64>::new());
    // The default limit is 100.
    let r = server.get("/items/orders?fields=id").await;
    assert_eq!(r.assert_ok().as_array().unwrap().len(), 100);

    // meta: total_count ignores the filter, filter_count counts it (search included).
    let r = server
        .get("/items/orders?fields=id&limit=5&meta=*&filter[amount][_gt]=100&search=off")
        .await;
    let want = orders
        .iter()
        .filter(|o| {
            o.amount.is_some_and(|a| a > 100.0)
                && o.note
                    .as_deref()
                    .is_some_and(|n| m.lower(n).contains("off"))
        })
        .count();
    assert_eq!(
        r.body["meta"]["total_count"].as_i64(),
        Some(300),
        "{kind:?}"
    );
    assert_eq!(
        r.body["meta"]["filter_count"].as_i64(),
        Some(want as i64),
        "{kind:?}"
    );
    assert_eq!(r.assert_ok().as_array().unwrap().len(), want.min(5));

    // Aggregates grouped by year.
    let r = server
        .get("/items/orders?aggregate[count]=*&aggregate[sum]=amount&aggregate[avg]=amount&aggregate[min]=amount&aggregate[max]=amount&aggregate[countDistinct]=customer&groupBy[]=year(created)")
        .await;
    let rows = r.assert_ok().as_array().unwrap().clone();
    let mut years: BTreeMap<i32, Vec<&Order>> = BTreeMap::new();
    for o in &orders {
        years.entry(o.created.year()).or_default().push(o);
    }
    assert_eq!(rows.len(), years.len(), "{kind:?}: {}", r.body);
    let num = |v: &Value| -> f64 {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or_else(|| panic!("not a number: {v}"))
    };
    for (row, (year, os)) in rows.iter().zip(&years) {
        assert_eq!(num(&row["created_year"]) as i32, *year, "{kind:?}: {row}");
        let amounts: Vec<f64> = os.iter().filter_map(|o| o.amount).collect();
        let sum: f64 = amounts.iter().sum();
        let distinct: std::collections::BTreeSet<i64> =
            os.iter().filter_map(|o| o.customer).collect();
        assert_eq!(num(&row["count"]) as usize, os.len(), "{kind:?}: {row}");
        assert!(
            (num(&row["sum"]["amount"]) - sum).abs() < 1e-6,
            "{kind:?}: {row}"
        );
        let avg = sum / amounts.len() as f64;
        assert!(
            (num(&row["avg"]["amount"]) - avg).abs() < 1e-6,
            "{kind:?}: {row} {avg}"
        );
        let min = amounts.iter().cloned().fold(f64::INFINITY, f64::min);
        let max = amounts.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(num(&row["min"]["amount"]), min, "{kind:?}: {row}");
        assert_eq!(num(&row["max"]["amount"]), max, "{kind:?}: {row}");
        assert_eq!(
            num(&row["countDistinct"]["customer"]) as usize,
            distinct.len(),
            "{kind:?}: {row}"
        );
    }
    // Aggregates with a filter, and count of a field (NULLs not counted).
    let r = server
        .get("/items/orders?aggregate[count]=amount&aggregate[sum]=amount&filter[customer][rank][_lt]=10")
        .await;
    let row = &r.assert_ok()[0];
    let sel: Vec<&Order> = orders
        .iter()
        .filter(|o| rank(o).is_some_and(|r| r < 10))
        .collect();
    let n = sel.iter().filter(|o| o.amount.is_some()).count();
    let sum: f64 = sel.iter().filter_map(|o| o.amount).sum();
    assert_eq!(num(&row["count"]["amount"]) as usize, n, "{kind:?}: {row}");
    assert!(
        (num(&row["sum"]["amount"]) - sum).abs() < 1e-6,
        "{kind:?}: {row}"
    );
}
async fn nested_reads_match_the_model(kind: Kind) {
    let (_db, server, customers, orders, _m) = setup(kind).await;
    // One-to-many children per parent with their own filter, sort and limit, count() and
    // a date part as outputs.
    let r = server
        .get("/items/customers?fields=id,count(orders),orders.id,orders.year(created)&deep[orders][_filter][amount][_gt]=0&deep[orders][_sort]=-amount&deep[orders][_limit]=3&limit=-1&sort=id")
        .await;
    let data = r.assert_ok().as_array().unwrap().clone();
    assert_eq!(data.len(), customers.len(), "{kind:?}");
    for (row, c) in data.iter().zip(&customers) {
        let mine: Vec<&Order> = orders.iter().filter(|o| o.customer == Some(c.id)).collect();
        let mut top: Vec<&Order> = mine
            .iter()
            .copied()
            .filter(|o| o.amount.is_some_and(|a| a > 0.0))
            .collect();
        top.sort_by(|a, b| {
            b.amount
                .partial_cmp(&a.amount)
                .unwrap()
                .then(a.id.cmp(&b.id))
        });
        top.truncate(3);
        assert_eq!(row["id"], c.id, "{kind:?}");
        assert_eq!(
            row["orders_count"].as_i64(),
            Some(mine.len() as i64),
            "{kind:?}: {row}"
        );
        let got: Vec<(i64, i64)> = row["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["id"].as_i64().unwrap(),
                    o["created_year"].as_i64().unwrap_or(-1),
                )
            })
            .collect();
        let want: Vec<(i64, i64)> = top
            .iter()
            .map(|o| (o.id, o.created.year() as i64))
            .collect();
        assert_eq!(got, want, "{kind:?}: customer {}", c.id);
    }
    // Many-to-one objects, null where there is no customer.
    let r = server
        .get("/items/orders?fields=id,customer.name,customer.rank&limit=-1&sort=id")
        .await;
    let data = r.assert_ok().as_array().unwrap().clone();
    for (row, o) in data.iter().zip(&orders) {
        match o
            .customer
            .and_then(|id| customers.iter().find(|c| c.id == id))
        {
            None => assert_eq!(row["customer"], Value::Null, "{kind:?}: {row}"),
            Some(c) => {
                assert_eq!(row["customer"]["name"], c.name.as_str(), "{kind:?}: {row}");
                assert_eq!(row["customer"]["rank"], c.rank, "{kind:?}: {row}");
            }
        }
    }
    // Values come back in Directus's formats.
    let r = server.get("/items/orders/1?fields=amount,created").await;
    assert_eq!(r.body["data"]["amount"].as_f64(), Some(10.0), "{kind:?}");
    assert_eq!(r.body["data"]["created"], "2022-01-01T00:00:00", "{kind:?}");

    // A row written through the API (SQLite stores its own text shape) compares equal to
    // one written with raw SQL at the same instant.
    let r = server
        .post(
            "/items/orders",
            serde_json::json!({"id": 301, "status": "Paid", "created": "2022-01-01T00:00:00Z"}),
        )
        .await;
    r.assert_ok();
    for (op, want) in [
        ("_eq", vec![1, 301]),
        ("_lte", {
            let mut v: Vec<i64> = orders
                .iter()
                .filter(|o| {
                    o.created
                        <= NaiveDate::from_ymd_opt(2022, 1, 1)
                            .unwrap()
                            .and_hms_opt(0, 0, 0)
                            .unwrap()
                })
                .map(|o| o.id)
                .collect();
            v.push(301);
            v
        }),
        ("_in", vec![1, 301]),
    ] {
        let got = ids(
            &server,
            "orders",
            &format!("sort=id&filter[created][{op}]=2022-01-01T00:00:00"),
        )
        .await;
        assert_eq!(got, want, "{kind:?}: {op}");
    }
}
on_every_db!(
    nested_reads_match_the_model_on_every_db,
    nested_reads_match_the_model
);

on_every_db!(
    sorts_paging_aggregates_and_meta_on_every_db,
    sorts_paging_aggregates_and_meta
);
