use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use push::{handle, typing, Input, State};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let aws = services::config::aws().await;
    let endpoint = std::env::var("WEBSOCKET_ENDPOINT").expect("WEBSOCKET_ENDPOINT must be set");
    let gateway = aws_sdk_apigatewaymanagement::Client::from_conf(
        aws_sdk_apigatewaymanagement::config::Builder::from(&aws).endpoint_url(endpoint).build(),
    );
    let state = State { store: services::config::store(&aws), gateway, files: services::config::files(&aws) };
    run(service_fn(|event: LambdaEvent<Input>| {
        let state = &state;
        async move {
            let done = match event.payload {
                Input::Stream(changes) => handle(state, changes).await,
                Input::Typing { typing } => typing::relay(state, typing).await,
            };
            done.map_err(|e| Error::from(format!("{e:?}")))
        }
    }))
    .await
}
