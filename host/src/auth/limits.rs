//! Login throttling: a fixed window of attempts per client IP (`429 REQUESTS_EXCEEDED`
//! past it), and consecutive failures per account, after which the account is suspended
//! (`settings.auth_login_attempts`, as Directus does). In memory, per host; the scale-out
//! issue moves the counters to Redis.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginLimits {
    points: u32,
    window: Duration,
    per_ip: Mutex<HashMap<IpAddr, (Instant, u32)>>,
    failures: Mutex<HashMap<String, u32>>,
}

impl LoginLimits {
    pub fn new(points: u32, window: Duration) -> Self {
        LoginLimits {
            points,
            window,
            per_ip: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt from `ip`; `Err(seconds)` to wait when over the limit.
    pub fn attempt(&self, ip: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.per_ip.lock().expect("limiter lock");
        if map.len() > 100_000 {
            // Bound the memory a flood of addresses can take: forget finished windows.
            map.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = map.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.points {
            let left = self.window.saturating_sub(now.duration_since(entry.0));
            return Err(left.as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }

    /// Records a failed password for an account; returns the consecutive failures.
    pub fn failed(&self, user: &str) -> u32 {
        let mut map = self.failures.lock().expect("limiter lock");
        let n = map.entry(user.to_string()).or_insert(0);
        *n += 1;
        *n
    }

    pub fn succeeded(&self, user: &str) {
        self.failures.lock().expect("limiter lock").remove(user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_ip_and_counts_failures() {
        let l = LoginLimits::new(2, Duration::from_secs(60));
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(l.attempt(ip).is_ok());
        assert!(l.attempt(ip).is_ok());
        assert!(l.attempt(ip).is_err());
        assert!(l.attempt("127.0.0.2".parse().unwrap()).is_ok());
        assert_eq!(l.failed("u"), 1);
        assert_eq!(l.failed("u"), 2);
        l.succeeded("u");
        assert_eq!(l.failed("u"), 1);
    }
}
