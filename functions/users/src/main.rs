use lambda_http::{run, service_fn, Error, Request};
use users::{handle, State};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let aws = services::config::aws().await;
    let state = State {
        store: services::config::store(&aws),
        cache: services::config::cache(&aws).await,
        auth: edge::auth::Auth::load(&aws).await,
    };
    run(service_fn(|req: Request| {
        let state = &state;
        async move { Ok::<_, Error>(handle(state, req).await) }
    }))
    .await
}
