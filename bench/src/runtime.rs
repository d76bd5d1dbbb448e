//! A Lambda Runtime API stub: hands events to a function process through `invocation/next`
//! and records when each answer arrives, as the Lambda service would.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Mutex};

/// The function's answer to one invocation.
pub struct Answer {
    pub at: Instant,
    pub ok: bool,
    pub body: Bytes,
}

pub struct Stub {
    pub addr: SocketAddr,
    events: mpsc::UnboundedSender<Bytes>,
    answers: mpsc::UnboundedReceiver<Answer>,
    server: tokio::task::JoinHandle<()>,
}

struct Shared {
    events: Mutex<mpsc::UnboundedReceiver<Bytes>>,
    answers: mpsc::UnboundedSender<Answer>,
    next_id: AtomicU64,
}

impl Stub {
    pub async fn start() -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the runtime API");
        let addr = listener.local_addr().unwrap();
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (answers_tx, answers_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            events: Mutex::new(events_rx),
            answers: answers_tx,
            next_id: AtomicU64::new(1),
        });
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(shared.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Stub { addr, events: events_tx, answers: answers_rx, server }
    }

    pub fn push(&self, event: Bytes) {
        self.events.send(event).expect("stub alive");
    }

    pub async fn answer(&mut self) -> Option<Answer> {
        self.answers.recv().await
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let path = req.uri().path().to_string();
    if path.ends_with("/invocation/next") {
        let event = shared.events.lock().await.recv().await.unwrap_or_default();
        let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
        let deadline =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() + 30_000;
        return Ok(Response::builder()
            .header("lambda-runtime-aws-request-id", format!("bench-{id}"))
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:bench",
            )
            .header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0")
            .body(Full::new(event))
            .unwrap());
    }
    let ok = path.ends_with("/response");
    let body = req.into_body().collect().await?.to_bytes();
    let _ = shared.answers.send(Answer { at: Instant::now(), ok, body });
    Ok(Response::builder().status(202).body(Full::new(Bytes::new())).unwrap())
}
