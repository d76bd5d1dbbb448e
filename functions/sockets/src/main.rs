use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use sockets::{handle, State};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let aws = services::config::aws().await;
    let state = State {
        store: services::config::store(&aws),
        auth: edge::auth::Auth::load(&aws).await,
        cache: services::config::cache(&aws).await,
        lambda: aws_sdk_lambda::Client::new(&aws),
        push_function: std::env::var("PUSH_FUNCTION").expect("PUSH_FUNCTION must be set"),
    };
    run(service_fn(|event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| {
        let state = &state;
        async move { Ok::<_, Error>(handle(state, event.payload).await) }
    }))
    .await
}
