"""Creates the stack's DynamoDB table, SQS queues, S3 buckets and generated secrets from
template.yaml on AWS-compatible endpoints (DynamoDB Local and moto locally, LocalStack in Docker),
so local resources never drift from the real ones.

Reads the endpoints from AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_DYNAMODB,
AWS_ENDPOINT_URL_S3 where set) like every AWS SDK. Resource names are the template's
logical ids in lower case, prefixed with NAME_PREFIX (default "chat-"), with ".fifo" for FIFO queues. Local runs may shorten
queue timings with VISIBILITY_TIMEOUT and MAX_RECEIVE_COUNT, so redelivery tests take seconds.
Buckets get the template's CORS rules, but for any origin (the local web client's port varies),
and its lifecycle rules; addressed by path (http://host:port/bucket/key).

Prints the functions' environment (the variables of the template's Globals and functions that
refer to these resources with !Ref, plus DLQ_URL and DLQ_ARN for the local poller and worker, and
STREAM_ARN and PUSH_FILTERS for its stream event source) as KEY=VALUE lines.

usage: python localstack/bootstrap.py [path/to/template.yaml]
"""

import json
import os
import secrets
import sys

import boto3
import yaml
from botocore.config import Config


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !GetAtt, !Sub, ...) as their long forms."""


def _tag(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _tag)


def load_template(path):
    with open(path) as f:
        return yaml.load(f, Loader=CfnLoader)


def resources_of(template, kind):
    return {k: v.get("Properties", {}) for k, v in template["Resources"].items() if v["Type"] == kind}


def create_table(ddb, name, props):
    args = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if props.get("StreamSpecification"):
        args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    made = ddb.create_table(**args)
    ddb.get_waiter("table_exists").wait(TableName=name)
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    return made["TableDescription"].get("LatestStreamArn")


def stream_filters(template):
    """The filter patterns of the functions' DynamoDB stream events, as one JSON list."""
    patterns = []
    for props in resources_of(template, "AWS::Serverless::Function").values():
        for event in props.get("Events", {}).values():
            if event.get("Type") == "DynamoDB":
                filters = event["Properties"].get("FilterCriteria", {}).get("Filters", [])
                patterns += [json.loads(f["Pattern"]) for f in filters]
    return json.dumps(patterns, separators=(",", ":"))


def queue_attributes(props, arns):
    attrs = {}
    for key, value in props.items():
        if key == "RedrivePolicy":
            target = value["deadLetterTargetArn"]["Fn::GetAtt"][0]
            policy = {"deadLetterTargetArn": arns[target], "maxReceiveCount": value["maxReceiveCount"]}
            if os.environ.get("MAX_RECEIVE_COUNT"):
                policy["maxReceiveCount"] = int(os.environ["MAX_RECEIVE_COUNT"])
            if isinstance(policy["maxReceiveCount"], dict):  # a !Ref to a parameter
                policy["maxReceiveCount"] = PARAMETERS[policy["maxReceiveCount"]["Ref"]]
            attrs["RedrivePolicy"] = json.dumps(policy)
        elif key in ("VisibilityTimeout", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds",
                     "DelaySeconds", "MaximumMessageSize", "DeduplicationScope", "FifoThroughputLimit"):
            attrs[key] = str(value)
        elif key in ("FifoQueue", "ContentBasedDeduplication"):
            attrs[key] = "true" if value else "false"
    if os.environ.get("VISIBILITY_TIMEOUT"):
        attrs["VisibilityTimeout"] = os.environ["VISIBILITY_TIMEOUT"]
    return attrs


def dependencies_first(queues):
    """Queues a redrive policy points at are created before the queues that point at them."""
    ordered = []
    def visit(name):
        if name in ordered:
            return
        target = queues[name].get("RedrivePolicy", {}).get("deadLetterTargetArn", {}).get("Fn::GetAtt")
        if target:
            visit(target[0])
        ordered.append(name)
    for name in queues:
        visit(name)
    return ordered


def function_environment(template):
    """The functions' environment variables: the Globals' and then each function's, first
    definition of a name wins (each name means the same resource wherever it is set)."""
    sources = [template.get("Globals", {}).get("Function", {})]
    sources += resources_of(template, "AWS::Serverless::Function").values()
    env = {}
    for props in sources:
        for key, value in props.get("Environment", {}).get("Variables", {}).items():
            env.setdefault(key, value)
    return env


def bucket_cors(props):
    """The bucket's CORS rules in the S3 API's words, for any origin."""
    words = {"Id": "ID", "AllowedHeaders": "AllowedHeaders", "ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds"}
    rules = []
    for rule in props.get("CorsConfiguration", {}).get("CorsRules", []):
        made = {"AllowedMethods": rule["AllowedMethods"], "AllowedOrigins": ["*"]}
        made.update({words[k]: v for k, v in rule.items() if k in words})
        rules.append(made)
    return rules


def bucket_lifecycle(props):
    """The bucket's lifecycle rules in the S3 API's words (CloudFormation flattens the filter)."""
    rules = []
    for rule in props.get("LifecycleConfiguration", {}).get("Rules", []):
        unknown = set(rule) - {"Id", "Status", "Prefix", "TagFilters", "ObjectSizeGreaterThan", "ObjectSizeLessThan",
                               "ExpirationInDays", "AbortIncompleteMultipartUpload", "NoncurrentVersionExpiration"}
        if unknown:
            sys.exit(f"bootstrap.py: lifecycle rule properties not translated yet: {sorted(unknown)}")
        conditions = {k: rule[k] for k in ("Prefix", "ObjectSizeGreaterThan", "ObjectSizeLessThan") if k in rule}
        tags = rule.get("TagFilters", [])
        if len(conditions) + len(tags) > 1:
            filter_ = {"And": {**conditions, **({"Tags": tags} if tags else {})}}
        else:
            filter_ = {"Tag": tags[0]} if tags else conditions or {"Prefix": ""}
        made = {"Status": rule["Status"], "Filter": filter_}
        if "Id" in rule:
            made["ID"] = rule["Id"]
        if "ExpirationInDays" in rule:
            made["Expiration"] = {"Days": rule["ExpirationInDays"]}
        for key in ("AbortIncompleteMultipartUpload", "NoncurrentVersionExpiration"):
            if key in rule:
                made[key] = rule[key]
        rules.append(made)
    return rules


def create_bucket(s3, name, props, region):
    args = {"Bucket": name}
    if region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**args)
    if bucket_cors(props):
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": bucket_cors(props)})
    if bucket_lifecycle(props):
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": bucket_lifecycle(props)})


PARAMETERS = {}


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "template.yaml")
    template = load_template(path)
    PARAMETERS.update({k: v.get("Default") for k, v in template.get("Parameters", {}).items()})
    prefix = os.environ.get("NAME_PREFIX", "chat-")
    region = os.environ.get("AWS_REGION", "us-east-1")
    ddb = boto3.client("dynamodb", region_name=region)
    sqs = boto3.client("sqs", region_name=region)

    refs = {}  # logical id -> what !Ref gives (table name, queue URL, bucket name)
    for logical, props in resources_of(template, "AWS::DynamoDB::Table").items():
        name = prefix + logical.lower()
        stream = create_table(ddb, name, props)
        refs[logical] = name
        if stream:
            # For the local stream event source (localstack/poller).
            print(f"STREAM_ARN={stream}")
            print(f"PUSH_FILTERS='{stream_filters(template)}'")

    queues = resources_of(template, "AWS::SQS::Queue")
    arns = {}
    for logical in dependencies_first(queues):
        name = prefix + logical.lower() + (".fifo" if queues[logical].get("FifoQueue") else "")
        url = sqs.create_queue(QueueName=name, Attributes=queue_attributes(queues[logical], arns))["QueueUrl"]
        arns[logical] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        refs[logical] = url

    # Secrets with a generated value, generated anew on every start (as a new stack would).
    secretsmanager = boto3.client("secretsmanager", region_name=region)
    for logical, props in resources_of(template, "AWS::SecretsManager::Secret").items():
        length = props.get("GenerateSecretString", {}).get("PasswordLength", 64)
        made = secretsmanager.create_secret(Name=prefix + logical.lower(), SecretString=secrets.token_urlsafe(length)[:length])
        refs[logical] = made["ARN"]

    s3 = boto3.client("s3", region_name=region, config=Config(s3={"addressing_style": "path"}))
    for logical, props in resources_of(template, "AWS::S3::Bucket").items():
        create_bucket(s3, prefix + logical.lower(), props, region)
        refs[logical] = prefix + logical.lower()

    for key, value in function_environment(template).items():
        if isinstance(value, dict) and "Ref" in value and value["Ref"] in refs:
            print(f"{key}={refs[value['Ref']]}")
    for logical, props in queues.items():
        target = props.get("RedrivePolicy", {}).get("deadLetterTargetArn", {}).get("Fn::GetAtt")
        if target:
            print(f"DLQ_URL={refs[target[0]]}")
            print(f"DLQ_ARN={arns[target[0]]}")


if __name__ == "__main__":
    main()
