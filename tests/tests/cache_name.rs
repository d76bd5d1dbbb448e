//! `CACHE_NAME`: the users function may be given a cache by name instead of `CACHE_URL`; its
//! endpoint is then looked up once through the ElastiCache API. Checked against moto's.

use aws_sdk_elasticache::Client;

async fn client() -> Client {
    assert!(std::env::var("AWS_ENDPOINT_URL").is_ok(), "run with scripts/test: it points the SDK at moto");
    Client::new(&services::config::aws().await)
}

#[tokio::test]
async fn a_replication_group_resolves_to_its_primary_endpoint() {
    let client = client().await;
    let name = format!("users-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    client
        .create_replication_group()
        .replication_group_id(&name)
        .replication_group_description("user list cache")
        .engine("redis")
        .cache_node_type("cache.t4g.micro")
        .send()
        .await
        .expect("moto creates the replication group");
    let described = client.describe_replication_groups().replication_group_id(&name).send().await.unwrap();
    let endpoint = described.replication_groups()[0].node_groups()[0].primary_endpoint().unwrap();
    let expected = format!("redis://{}:{}", endpoint.address().unwrap(), endpoint.port().unwrap());
    assert!(expected.contains(&name), "{expected}");
    assert_eq!(services::config::cache_url(&client, &name).await, Some(expected));
}

#[tokio::test]
async fn an_unknown_name_resolves_to_no_cache() {
    let client = client().await;
    assert_eq!(services::config::cache_url(&client, "no-such-cache").await, None);
}
