//! Local stand-in for Lambda's asynchronous invocation. `cargo lambda watch` serves every
//! Invoke synchronously, whatever its `X-Amz-Invocation-Type`: a caller asking for an `Event`
//! invoke (the `sockets` function handing a typing frame to `push`) would wait until the
//! function is done, and past its SDK's attempt timeout send the invoke again, running the
//! function twice. Lambda answers such an invoke 202 at once and runs it on its own; so does
//! this: the invoke is handed to the watch in the background. Other invocation types go
//! through and wait for the function's answer, as it gives it. Lambda's retries of a failed asynchronous
//! invocation are not played: a failure is logged.
//!
//! Environment: `ASYNC_INVOKE_PORT` (where the functions' `AWS_ENDPOINT_URL_LAMBDA` points) and
//! `ASYNC_INVOKE_TARGET` (the base URL of the `cargo lambda watch` that runs the functions).

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

type Answer = Response<Full<Bytes>>;

#[derive(Clone)]
struct Target {
    http: reqwest::Client,
    base: String,
}

pub async fn serve(port: u16, base: String, http: reqwest::Client) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("port free");
    tracing::info!(port, base, "serving the Lambda Invoke API");
    let target = Target { http, base };
    loop {
        let Ok((tcp, _)) = listener.accept().await else { continue };
        let target = target.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let target = target.clone();
                async move { Ok::<_, std::convert::Infallible>(invoke(target, req).await) }
            });
            let _ =
                hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), service).await;
        });
    }
}

async fn invoke(target: Target, req: Request<Incoming>) -> Answer {
    let event = req.headers().get("x-amz-invocation-type").is_some_and(|v| v.as_bytes() == b"Event");
    let url = format!("{}{}", target.base, req.uri());
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    if event {
        tokio::spawn(async move {
            let payload: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            if let Err(e) = crate::invoke_function(&target.http, &url, &payload).await {
                tracing::warn!(error = %e, url, "an asynchronous invocation failed");
            }
        });
        return answer(StatusCode::ACCEPTED, Bytes::new());
    }
    match target.http.post(&url).body(body).send().await {
        Ok(response) => {
            let status = response.status();
            answer(status, response.bytes().await.unwrap_or_default())
        }
        Err(e) => answer(StatusCode::BAD_GATEWAY, Bytes::from(e.to_string())),
    }
}

fn answer(status: StatusCode, body: Bytes) -> Answer {
    Response::builder().status(status).body(Full::new(body)).expect("a valid response")
}
