//! A WebSocket handed to a module (`rectus_sdk::Socket`): text frames only (pings are
//! answered by axum, binary frames ignored), closed by the host when the caller's token
//! expires — the module sees `recv` end.

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub struct ModuleSocket {
    socket: WebSocket,
    /// When the caller's token expires (seconds since the epoch); static tokens don't.
    expires: Option<u64>,
}

impl ModuleSocket {
    pub fn new(socket: WebSocket, expires: Option<u64>) -> Self {
        ModuleSocket { socket, expires }
    }

    fn until_expiry(&self) -> Option<Duration> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
        self.expires
            .map(|exp| Duration::from_secs(exp.saturating_sub(now)))
    }

    async fn close_expired(&mut self) {
        let _ = self
            .socket
            .send(Message::Close(Some(CloseFrame {
                code: 4403,
                reason: "Token expired.".into(),
            })))
            .await;
    }
}

impl rectus_sdk::Socket for ModuleSocket {
    async fn recv(&mut self) -> Option<String> {
        loop {
            let message = match self.until_expiry() {
                Some(left) => match tokio::time::timeout(left, self.socket.recv()).await {
                    Ok(m) => m,
                    Err(_) => {
                        self.close_expired().await;
                        return None;
                    }
                },
                None => self.socket.recv().await,
            };
            match message? {
                Ok(Message::Text(text)) => return Some(text.to_string()),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    async fn send(&mut self, text: String) -> bool {
        if self.until_expiry() == Some(Duration::ZERO) {
            self.close_expired().await;
            return false;
        }
        self.socket.send(Message::Text(text.into())).await.is_ok()
    }
}

/// The `exp` claim of a bearer JWT (already verified by the `Caller` extractor), read
/// without verifying again; `None` for static tokens and anything else.
pub fn token_expiry(token: &str) -> Option<u64> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp")?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_expiry_of_a_jwt_only() {
        use base64::Engine;
        let claims =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"exp":1700000000}"#);
        assert_eq!(token_expiry(&format!("h.{claims}.s")), Some(1_700_000_000));
        assert_eq!(token_expiry("static-token"), None);
        assert_eq!(token_expiry("a.%%%.c"), None);
    }
}
