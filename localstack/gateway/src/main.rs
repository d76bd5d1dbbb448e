//! Local stand-in for an API Gateway WebSocket API, as the SQS poller stands in for the event
//! source mapping. A WebSocket connect, each text frame and the disconnect become the Lambda
//! events API Gateway sends (`$connect`, `$default`, `$disconnect`, with `requestContext`), through
//! the function's Invoke API that `cargo lambda watch` serves. A `$connect` answer other than 2xx
//! refuses the handshake with that status and body; a `$default` answer's body goes back to the
//! client as a frame (a route response). Every port also serves the Management API's
//! `@connections/{id}` (POST a frame, DELETE to close, GET its details; 410 for an unknown id),
//! which the `push` function calls as it would on AWS.
//!
//! usage: gateway PORT=INVOKE_URL [PORT=INVOKE_URL ...]   (one WebSocket API per port; the
//! connections of all of them are one set, as the functions share one table)

use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{frame::coding::CloseCode, CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// API Gateway's limits: a message (posted, or from a client) 128 KiB, a frame 32 KiB.
const MAX_POST_BYTES: usize = 128 * 1024;
const MAX_FRAME_BYTES: usize = 32 * 1024;

enum Out {
    Frame(String),
    Close,
}

struct Connection {
    out: mpsc::UnboundedSender<Out>,
    connected_at: String,
    source_ip: String,
    user_agent: String,
}

type Connections = Arc<Mutex<HashMap<String, Connection>>>;

#[derive(Clone)]
struct Api {
    invoke_url: String,
    http: reqwest::Client,
    connections: Connections,
}

type Answer = Response<Full<Bytes>>;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    lambda_runtime::tracing::init_default_subscriber();
    let connections = Connections::default();
    let http = reqwest::Client::new();
    let mut servers = Vec::new();
    for arg in std::env::args().skip(1) {
        let (port, invoke_url) = arg.split_once('=').expect("arguments are PORT=INVOKE_URL");
        let port: u16 = port.parse().expect("a port number");
        let api =
            Api { invoke_url: invoke_url.to_string(), http: http.clone(), connections: connections.clone() };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("port free");
        tracing::info!(port, invoke_url, "serving a WebSocket API");
        servers.push(tokio::spawn(serve(listener, api)));
    }
    assert!(!servers.is_empty(), "usage: gateway PORT=INVOKE_URL [PORT=INVOKE_URL ...]");
    for server in servers {
        let _ = server.await;
    }
}

async fn serve(listener: tokio::net::TcpListener, api: Api) {
    loop {
        let Ok((tcp, peer)) = listener.accept().await else { continue };
        let api = api.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let api = api.clone();
                async move { Ok::<_, std::convert::Infallible>(route(api, peer, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades()
                .await;
        });
    }
}

async fn route(api: Api, peer: SocketAddr, req: Request<Incoming>) -> Answer {
    if let Some(id) = req.uri().path().strip_prefix("/@connections/") {
        let id = percent_decode(id);
        let method = req.method().clone();
        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        return manage(&api, &method, &id, body);
    }
    let upgrade = req.headers().get("upgrade").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !upgrade.eq_ignore_ascii_case("websocket") {
        return answer(StatusCode::UPGRADE_REQUIRED, json!({"message": "This is a WebSocket API."}));
    }
    connect(api, peer, req).await
}

/// The handshake: `$connect` decides, then the connection is served until either side ends it.
async fn connect(api: Api, peer: SocketAddr, mut req: Request<Incoming>) -> Answer {
    let Some(key) = req.headers().get("sec-websocket-key").map(|k| derive_accept_key(k.as_bytes())) else {
        return answer(StatusCode::BAD_REQUEST, json!({"message": "Sec-WebSocket-Key is missing."}));
    };
    let id = connection_id();
    let headers: Map<String, Value> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), Value::String(v.to_str().unwrap_or("").to_string())))
        .collect();
    let query: Map<String, Value> = req
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))).filter(|(k, _)| !k.is_empty()))
        .map(|(k, v)| (percent_decode(k), Value::String(percent_decode(v))))
        .collect();
    let user_agent = req.headers().get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let mut event = event(&id, "$connect", "CONNECT", peer);
    event["headers"] = Value::Object(headers);
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    let (status, body) = api.invoke(event).await;
    if !(200..300).contains(&status) {
        tracing::info!(connection = id, status, "connect refused");
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .expect("a valid response");
    }
    // Known before the handshake ends: a push may follow the $connect at once.
    let (out, frames) = mpsc::unbounded_channel();
    let connected_at = chrono::Utc::now().to_rfc3339();
    let source_ip = peer.ip().to_string();
    api.connections
        .lock()
        .unwrap()
        .insert(id.clone(), Connection { out, connected_at, source_ip, user_agent });
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => {
                let limits = WebSocketConfig::default()
                    .max_message_size(Some(MAX_POST_BYTES))
                    .max_frame_size(Some(MAX_FRAME_BYTES));
                let io = TokioIo::new(upgraded);
                let socket = WebSocketStream::from_raw_socket(io, Role::Server, Some(limits)).await;
                relay(&api, &id, peer, socket, frames).await;
            }
            Err(err) => {
                tracing::warn!(connection = id, error = %err, "upgrade failed");
                api.connections.lock().unwrap().remove(&id);
                api.disconnected(&id, peer, 1006, "upgrade failed").await;
            }
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-accept", key)
        .body(Full::new(Bytes::new()))
        .expect("a valid response")
}

/// Frames both ways until the client leaves or the Management API closes the connection.
async fn relay<S>(
    api: &Api,
    id: &str,
    peer: SocketAddr,
    socket: WebSocketStream<S>,
    mut frames: mpsc::UnboundedReceiver<Out>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut stream) = socket.split();
    let (code, reason) = loop {
        tokio::select! {
            out = frames.recv() => match out {
                Some(Out::Frame(text)) => {
                    if sink.send(Message::text(text)).await.is_err() {
                        break (1006, "send failed");
                    }
                }
                Some(Out::Close) | None => {
                    let close = CloseFrame { code: CloseCode::Normal, reason: "Connection closed by the server".into() };
                    let _ = sink.send(Message::Close(Some(close))).await;
                    break (1000, "closed by the server");
                }
            },
            received = stream.next() => match received {
                Some(Ok(Message::Text(text))) => {
                    // In a task of its own: a slow route must not hold back pushes.
                    let (api, id, text) = (api.clone(), id.to_string(), text.to_string());
                    tokio::spawn(async move {
                        let mut event = event(&id, "$default", "MESSAGE", peer);
                        event["body"] = Value::String(text);
                        event["requestContext"]["messageId"] = Value::String(connection_id());
                        if let (_, Some(body)) = api.invoke(event).await {
                            api.post(&id, body);
                        }
                    });
                }
                Some(Ok(Message::Close(_))) | None => break (1000, "closed by the client"),
                Some(Err(_)) => break (1006, "connection lost"),
                Some(Ok(_)) => {} // pings are answered by the socket itself
            },
        }
    };
    api.connections.lock().unwrap().remove(id);
    api.disconnected(id, peer, code, reason).await;
}

impl Api {
    /// The function's answer to an event: its status code and body (500 for a function error).
    async fn invoke(&self, event: Value) -> (u16, Option<String>) {
        let internal = (500, Some(json!({"message": "Internal server error"}).to_string()));
        let Ok(response) = self.http.post(&self.invoke_url).json(&event).send().await else {
            return internal;
        };
        let Ok(answer) = response.json::<Value>().await else { return internal };
        match answer.get("statusCode").and_then(Value::as_u64) {
            Some(status) => (status as u16, answer.get("body").and_then(Value::as_str).map(str::to_string)),
            None => {
                tracing::warn!(%answer, "the function failed");
                internal
            }
        }
    }

    async fn disconnected(&self, id: &str, peer: SocketAddr, code: u16, reason: &str) {
        let mut event = event(id, "$disconnect", "DISCONNECT", peer);
        event["requestContext"]["disconnectStatusCode"] = json!(code);
        event["requestContext"]["disconnectReason"] = json!(reason);
        self.invoke(event).await;
    }

    /// A frame to a connection; false when it is gone.
    fn post(&self, id: &str, frame: String) -> bool {
        let connections = self.connections.lock().unwrap();
        connections.get(id).is_some_and(|c| c.out.send(Out::Frame(frame)).is_ok())
    }
}

/// The Management API on one connection.
fn manage(api: &Api, method: &Method, id: &str, body: Bytes) -> Answer {
    let gone = || {
        let mut response = answer(StatusCode::GONE, json!({"message": format!("Connection {id} is gone.")}));
        response.headers_mut().insert("x-amzn-errortype", "GoneException".parse().expect("a header value"));
        response
    };
    match *method {
        Method::POST if body.len() > MAX_POST_BYTES => {
            let mut response = answer(StatusCode::PAYLOAD_TOO_LARGE, json!({"message": "Message too long"}));
            let kind = "PayloadTooLargeException".parse().expect("a header value");
            response.headers_mut().insert("x-amzn-errortype", kind);
            response
        }
        Method::POST => match api.post(id, String::from_utf8_lossy(&body).into_owned()) {
            true => answer(StatusCode::OK, Value::Null),
            false => gone(),
        },
        Method::DELETE => {
            let closed =
                api.connections.lock().unwrap().get(id).is_some_and(|c| c.out.send(Out::Close).is_ok());
            if closed {
                answer(StatusCode::NO_CONTENT, Value::Null)
            } else {
                gone()
            }
        }
        Method::GET => {
            let connections = api.connections.lock().unwrap();
            let Some(c) = connections.get(id) else { return gone() };
            let details = json!({
                "connectedAt": c.connected_at,
                "lastActiveAt": chrono::Utc::now().to_rfc3339(),
                "identity": {"sourceIp": c.source_ip, "userAgent": c.user_agent},
            });
            answer(StatusCode::OK, details)
        }
        _ => answer(StatusCode::METHOD_NOT_ALLOWED, json!({"message": "Method not allowed"})),
    }
}

/// The event API Gateway sends for a route, without what only some routes carry.
fn event(id: &str, route_key: &str, event_type: &str, peer: SocketAddr) -> Value {
    let now = chrono::Utc::now();
    json!({
        "requestContext": {
            "routeKey": route_key,
            "eventType": event_type,
            "messageDirection": "IN",
            "connectionId": id,
            "connectedAt": now.timestamp_millis(),
            "requestTimeEpoch": now.timestamp_millis(),
            "requestTime": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "requestId": uuid::Uuid::new_v4().to_string(),
            "extendedRequestId": uuid::Uuid::new_v4().to_string(),
            "stage": "local",
            "domainName": "localhost",
            "apiId": "local",
            "identity": {"sourceIp": peer.ip().to_string()},
        },
        "isBase64Encoded": false,
    })
}

/// An id shaped like API Gateway's (e.g. `L0SM9cOFvHcCIhw=`).
fn connection_id() -> String {
    format!("{}=", &uuid::Uuid::new_v4().simple().to_string()[..15])
}

fn answer(status: StatusCode, body: Value) -> Answer {
    let body = if body.is_null() { Bytes::new() } else { Bytes::from(body.to_string()) };
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(body))
        .expect("a valid response")
}

/// `%3D` to `=` and so on; `+` to a space, as in a query string.
fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
