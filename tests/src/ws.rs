//! WebSocket clients of the stack's WebSocket API (live push), for the tests.

use futures_util::StreamExt;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::{self, Message};

pub type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub fn ws_url(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by scripts/test"))
}

/// A connection, or the status and body its handshake was refused with.
pub async fn open(base: &str, query: &str) -> Result<Stream, (u16, Value)> {
    match tokio_tungstenite::connect_async(format!("{base}?{query}")).await {
        Ok((stream, _)) => Ok(stream),
        Err(tungstenite::Error::Http(response)) => {
            let body = response.body().as_deref().and_then(|b| serde_json::from_slice(b).ok());
            Err((response.status().as_u16(), body.unwrap_or(Value::Null)))
        }
        Err(other) => panic!("connecting to {base}: {other}"),
    }
}

pub async fn connect(user: u64) -> Stream {
    open(&ws_url("WEBSOCKET_URL"), &format!("user_id={user}")).await.expect("connects")
}

/// The next JSON frame within `within`, or None.
pub async fn next_frame(socket: &mut Stream, within: Duration) -> Option<Value> {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, socket.next()).await.ok()?? {
            Ok(Message::Text(text)) => return Some(serde_json::from_str(&text).expect("frames are JSON")),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// The first frame of `kind` whose data satisfies `wanted`, within `within`; other frames are
/// skipped.
pub async fn frame_where(
    socket: &mut Stream,
    kind: &str,
    within: Duration,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame =
            next_frame(socket, left).await.unwrap_or_else(|| panic!("no {kind} frame within {within:?}"));
        if frame["type"] == kind && wanted(&frame["data"]) {
            return frame;
        }
    }
}
