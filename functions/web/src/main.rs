use lambda_http::{run, service_fn, Error, Request};
use web::{handle, State};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let state = State::from_env();
    run(service_fn(|req: Request| {
        let state = &state;
        async move { Ok::<_, Error>(handle(state, req).await) }
    }))
    .await
}
