"""The Lambda forwarder's CloudFormation template: cfn-lint passes, and it deploys into moto's
CloudFormation with the queue, dead-letter queue, event source and least-privilege role it says."""

from __future__ import annotations

import ast
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from connector import aws_lambda
from connector.sinks.splunk_hec import HecSink
from tests.servers.moto_server import MotoServer

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "aws" / "cloudformation" / "lambda-forwarder.yaml"
TOKEN = "00000000-0000-4000-8000-00000000beef"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:connector-AbCdEf"


def test_cfn_lint_passes() -> None:
    lint = Path(sys.executable).with_name("cfn-lint")
    done = subprocess.run([str(lint), str(TEMPLATE)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _deploy(moto: MotoServer, name: str, **parameters: str) -> dict[str, str]:
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="code")
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr("connector/__init__.py", "")
    s3.put_object(Bucket="code", Key="aws-siem-connector-lambda.zip", Body=package.getvalue())
    cfn = moto.client("cloudformation")
    values = {"CodeBucket": "code", "LogBucketName": "acme-logs", "SinkType": "elasticsearch",
              "SinkUrl": "https://es.example:9200", **parameters}
    cfn.create_stack(StackName=name, TemplateBody=TEMPLATE.read_text(), Capabilities=["CAPABILITY_IAM"],
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()])
    (stack,) = cfn.describe_stacks(StackName=name)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def _role_statements(moto: MotoServer, function: str) -> dict[str, dict[str, Any]]:
    role_arn = moto.client("lambda").get_function_configuration(FunctionName=function)["Role"]
    iam = moto.client("iam")
    role = role_arn.rsplit("/", 1)[-1]
    (policy,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
    if isinstance(document, str):
        # moto keeps the template's document as Python's repr of it rather than JSON.
        document = ast.literal_eval(document)
    # CloudFormation drops an !If branch of AWS::NoValue from a list; moto leaves None in its place.
    return {s["Sid"]: s for s in document["Statement"] if s is not None}


def test_eventbridge_stack_with_a_secret(moto: MotoServer) -> None:
    outputs = _deploy(moto, "siem", SecretsArn=SECRET, Namespace="prod")
    sqs = moto.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=outputs["QueueUrl"], AttributeNames=["All"])["Attributes"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=outputs["DeadLetterQueueUrl"],
                                        AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dead_arn, "maxReceiveCount": 5}
    assert attributes["VisibilityTimeout"] == "1800"
    assert attributes["QueueArn"] == outputs["QueueArn"]

    lam = moto.client("lambda")
    config = lam.get_function_configuration(FunctionName=outputs["FunctionName"])
    assert (config["Handler"], config["Runtime"], config["Timeout"]) == ("connector.aws_lambda.handler",
                                                                         "python3.11", 300)
    env = config["Environment"]["Variables"]
    assert env["AWS_SIEM_CONNECTOR_SINK__TYPE"] == "elasticsearch"
    assert env["AWS_SIEM_CONNECTOR_ELASTICSEARCH__URL"] == "https://es.example:9200"
    assert env["AWS_SIEM_CONNECTOR_ELASTICSEARCH__NAMESPACE"] == "prod"
    assert env["AWS_SIEM_CONNECTOR_SECRETS_ARN"] == SECRET
    assert env["AWS_SIEM_CONNECTOR_DLQ__PATH"] == outputs["DeadLetterPath"]
    dead_letter_bucket = outputs["DeadLetterPath"].removeprefix("s3://").split("/", 1)[0]
    moto.client("s3").head_bucket(Bucket=dead_letter_bucket)
    assert "AWS_SIEM_CONNECTOR_SPLUNK_HEC__DEFAULT_INDEX" not in env
    (mapping,) = lam.list_event_source_mappings(FunctionName=outputs["FunctionName"])["EventSourceMappings"]
    assert mapping["EventSourceArn"] == outputs["QueueArn"]
    assert mapping["BatchSize"] == 10
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    statements = _role_statements(moto, outputs["FunctionName"])
    assert sorted(statements) == ["OwnLogs", "Queue", "ReadLogObjects", "SinkCredentials", "WriteDeadLetters"]
    assert statements["WriteDeadLetters"]["Action"] == "s3:PutObject"
    assert statements["WriteDeadLetters"]["Resource"] == f"arn:aws:s3:::{dead_letter_bucket}/dead-letters/*"
    assert statements["ReadLogObjects"]["Resource"] == "arn:aws:s3:::acme-logs/AWSLogs/*"
    assert statements["ReadLogObjects"]["Action"] == "s3:GetObject"
    assert statements["Queue"]["Resource"] == outputs["QueueArn"]
    assert statements["SinkCredentials"]["Resource"] == SECRET

    (rule,) = moto.client("events").list_rules()["Rules"]
    pattern = json.loads(rule["EventPattern"])
    assert pattern["detail"] == {"bucket": {"name": ["acme-logs"]}, "object": {"key": [{"prefix": "AWSLogs/"}]}}
    (target,) = moto.client("events").list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"] == outputs["QueueArn"]


@pytest.mark.parametrize("kms", ["", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"])
def test_s3_notification_stack_without_a_secret(moto: MotoServer, kms: str, monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = _deploy(moto, "siem-s3", NotificationSource="s3", SinkType="splunk", SinkUrl="https://hec.example:8088",
                      SplunkIndex="aws", LogPrefix="org/AWSLogs/", LogBucketKmsKeyArn=kms)
    assert moto.client("events").list_rules()["Rules"] == []
    env = moto.client("lambda").get_function_configuration(FunctionName=outputs["FunctionName"])["Environment"]
    assert env["Variables"]["AWS_SIEM_CONNECTOR_SPLUNK_HEC__DEFAULT_INDEX"] == "aws"
    assert "AWS_SIEM_CONNECTOR_SECRETS_ARN" not in env["Variables"]
    # The function's environment, as deployed, configures the connector's Lambda runtime.
    for key, value in moto.env.items():
        monkeypatch.setenv(key, value)
    runtime = aws_lambda._build_runtime({**moto.env, **env["Variables"], "SPLUNK_HEC_TOKEN": TOKEN})
    try:
        sink = runtime.parts.sink
        assert isinstance(sink, HecSink)
        assert (sink.config.hec_url, sink.config.default_index) == ("https://hec.example:8088", "aws")
    finally:
        runtime.close()
    statements = _role_statements(moto, outputs["FunctionName"])
    expected = ["OwnLogs", "Queue", "ReadLogObjects", "WriteDeadLetters"] + (["DecryptLogObjects"] if kms else [])
    assert sorted(statements) == sorted(expected)
    assert statements["ReadLogObjects"]["Resource"] == "arn:aws:s3:::acme-logs/org/AWSLogs/*"


def _template() -> dict[str, Any]:
    """The template with its short-form functions (!Ref, !If, ...) read as their long form."""

    class Loader(yaml.SafeLoader):
        pass

    def function(loader: yaml.SafeLoader, tag: str, node: yaml.Node) -> dict[str, Any]:
        name = "Ref" if tag == "Ref" else f"Fn::{tag}"
        if isinstance(node, yaml.ScalarNode):
            return {name: loader.construct_scalar(node)}
        if isinstance(node, yaml.SequenceNode):
            return {name: loader.construct_sequence(node, deep=True)}
        return {name: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]

    Loader.add_multi_constructor("!", function)
    return dict(yaml.load(TEMPLATE.read_text(), Loader=Loader))


def test_dead_letter_bucket_is_private_encrypted_kept_and_expiring() -> None:
    # moto applies none of these bucket properties, so they are checked in the template itself.
    bucket = _template()["Resources"]["DeadLetterBucket"]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    properties = bucket["Properties"]
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    (rule,) = properties["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == {"Ref": "DeadLetterRetentionDays"} and rule["Status"] == "Enabled"


def test_only_the_log_bucket_and_the_rule_may_send_to_the_queue() -> None:
    # moto has no AWS::SQS::QueuePolicy, so the policy is checked in the template itself.
    statements = _template()["Resources"]["QueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    by_condition = {s["Fn::If"][0]: s["Fn::If"][1] for s in statements}
    assert all(s["Fn::If"][2] == {"Ref": "AWS::NoValue"} for s in statements)
    s3, rule = by_condition["UseS3Notifications"], by_condition["UseEventBridge"]
    assert s3["Principal"] == {"Service": "s3.amazonaws.com"} and s3["Action"] == "sqs:SendMessage"
    assert s3["Condition"] == {"ArnLike": {"aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${LogBucketName}"}},
                               "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    assert rule["Principal"] == {"Service": "events.amazonaws.com"}
    assert rule["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": "ObjectCreatedRule.Arn"}}}
