use lambda_http::{run, service_fn, Error, Request};
use tasks::{handle, State};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let aws = services::config::aws().await;
    let signing = services::config::signing(&aws).await;
    let state = State {
        store: services::config::store(&aws),
        auth: edge::auth::Auth::from_env(&signing),
        files: services::config::files(&aws),
        signing,
    };
    run(service_fn(|req: Request| {
        let state = &state;
        async move { Ok::<_, Error>(handle(state, req).await) }
    }))
    .await
}
