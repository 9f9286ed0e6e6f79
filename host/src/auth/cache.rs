//! A short-lived cache from static token to accountability, so a request with a static
//! token costs no extra queries (the lookup and the policies were two round trips per
//! request). Entries live a few seconds, and the whole cache is cleared whenever users,
//! roles, policies or access change through Rectus, so a suspended or deleted account
//! loses access at once; a change made with raw SQL takes effect within the TTL.

use super::Accountability;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(5);
/// Past this many entries the cache starts over rather than grow without bound.
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (Accountability, Instant)>>,
}

impl TokenCache {
    pub fn get(&self, token: &str) -> Option<Accountability> {
        let map = self.entries.lock().expect("token cache lock");
        map.get(token)
            .filter(|(_, at)| at.elapsed() < TTL)
            .map(|(acc, _)| acc.clone())
    }

    pub fn put(&self, token: &str, acc: &Accountability) {
        let mut map = self.entries.lock().expect("token cache lock");
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(token.to_string(), (acc.clone(), Instant::now()));
    }

    pub fn clear(&self) {
        self.entries.lock().expect("token cache lock").clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caches_and_clears() {
        let c = TokenCache::default();
        assert!(c.get("t").is_none());
        let acc = Accountability {
            admin: true,
            ..Default::default()
        };
        c.put("t", &acc);
        assert_eq!(c.get("t"), Some(acc));
        c.clear();
        assert!(c.get("t").is_none());
    }
}
