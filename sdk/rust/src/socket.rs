//! WebSockets and item events: what a module needs to push changes to a client
//! (GraphQL subscriptions). The host owns the connection — the upgrade, the caller's
//! authentication and closing the socket when the caller's token expires — and hands the
//! module text frames and the item changes committed from then on.

use crate::{Context, Endpoint, Host};
use serde_json::Value as Json;
use std::future::Future;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemAction {
    Create,
    Update,
    Delete,
}

impl ItemAction {
    pub fn name(self) -> &'static str {
        match self {
            ItemAction::Create => "create",
            ItemAction::Update => "update",
            ItemAction::Delete => "delete",
        }
    }
}

/// Items of one collection changed by one committed write.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemEvent {
    /// The collection as modules name it (`orders`, `directus_users`).
    pub collection: String,
    pub action: ItemAction,
    pub keys: Vec<Json>,
}

/// Item changes in commit order, from the moment [`Host::item_events`] was called.
/// `None` once the host stops delivering (shutdown).
pub trait ItemEvents: Send + 'static {
    fn next(&mut self) -> impl Future<Output = Option<ItemEvent>> + Send;
}

/// A WebSocket as a module sees it: text frames. `recv` answers `None` once the client
/// closed it or the host closed it (the caller's token expired).
pub trait Socket: Send + 'static {
    fn recv(&mut self) -> impl Future<Output = Option<String>> + Send;
    /// `false` when the frame could not be sent (the socket is gone).
    fn send(&mut self, text: String) -> impl Future<Output = bool> + Send;
}

/// An endpoint that also serves WebSockets on its mount point.
pub trait SocketEndpoint: Endpoint {
    /// The WebSocket subprotocol it speaks (`graphql-transport-ws`).
    fn protocol(&self) -> &'static str;

    /// Serves one socket until it closes; `host` and `ctx` are the caller's for its life.
    fn serve_socket<H: Host, S: Socket>(
        &self,
        host: H,
        ctx: Context,
        socket: S,
    ) -> impl Future<Output = ()> + Send;
}
