use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use worker::{handle, State};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let aws = services::config::aws().await;
    let state = State {
        store: services::config::store(&aws),
        cache: services::config::cache(&aws).await,
        files: services::config::files(&aws),
        dead_letter_arn: std::env::var("DLQ_ARN").ok().filter(|arn| !arn.is_empty()),
    };
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let state = &state;
        async move { Ok::<_, Error>(handle(state, event.payload).await) }
    }))
    .await
}
