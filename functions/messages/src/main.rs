use lambda_http::{run, service_fn, Error, Request};
use messages::{handle, State};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let aws = services::config::aws().await;
    let signing = services::config::signing(&aws).await;
    let state = State {
        store: services::config::store(&aws),
        queue: services::config::queue(&aws),
        files: services::config::files(&aws),
        auth: edge::auth::Auth::from_env(&signing),
        signing,
        cache: services::config::cache(&aws).await,
        limits: services::cache::SendLimits::from_env(),
    };
    run(service_fn(|req: Request| {
        let state = &state;
        async move { Ok::<_, Error>(handle(state, req).await) }
    }))
    .await
}
