"""The Kubernetes manifests and the container image definition agree with the connector: the
container's command line parses, its configuration loads and builds the sink, the probes hit
the metrics port, the grace period outlasts the drain, and KEDA watches the queue the workers drain."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml

from connector.cli import build_parser
from connector.config import load_config
from connector.forward import ForwardSettings
from connector.sinks.factory import build_sink

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "k8s" / "forwarder.yaml"
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"


def _by_kind() -> dict[str, dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(MANIFESTS.read_text()) if d]
    kinds = {d["kind"]: d for d in docs}
    assert len(kinds) == len(docs)
    return kinds


def test_the_worker_command_and_its_configuration_work(tmp_path: Path) -> None:
    kinds = _by_kind()
    assert sorted(kinds) == ["ConfigMap", "Deployment", "PodDisruptionBudget", "ScaledObject", "ServiceAccount",
                             "TriggerAuthentication"]
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "config"]
    (config_file,) = kinds["ConfigMap"]["data"]
    local = tmp_path / config_file
    local.write_text(kinds["ConfigMap"]["data"][config_file])
    args = [str(local) if a == f"{mount['mountPath']}/{config_file}" else a for a in container["args"]]
    assert str(local) in args  # the container reads the file the ConfigMap mounts

    parsed = build_parser().parse_args(args)
    assert parsed.command == "forward"
    config = load_config(parsed.config, {})
    settings = ForwardSettings.from_sources(config.section("forward"), parsed, str(local))
    sink = build_sink(config.section("sink")["type"], config, {"ES_API_KEY": "k"}, check=False)
    sink.close()
    assert config.dlq_path and config.dlq_path.startswith("s3://")

    port = {p["name"]: p["containerPort"] for p in container["ports"]}["metrics"]
    assert settings.metrics_port == port
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert pod["terminationGracePeriodSeconds"] > settings.drain_seconds + 10
    assert float(container["resources"]["requests"]["cpu"]) == settings.workers
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]

    scaled = kinds["ScaledObject"]["spec"]
    assert scaled["scaleTargetRef"]["name"] == kinds["Deployment"]["metadata"]["name"]
    (trigger,) = scaled["triggers"]
    assert trigger["type"] == "aws-sqs-queue"
    assert (trigger["metadata"]["queueURL"],) == settings.queue_urls
    assert trigger["metadata"]["awsRegion"] == config.section("aws")["region"]
    assert trigger["authenticationRef"]["name"] == kinds["TriggerAuthentication"]["metadata"]["name"]
    assert pod["serviceAccountName"] == kinds["ServiceAccount"]["metadata"]["name"]


def test_the_image_runs_the_console_script_as_a_non_root_user() -> None:
    lines = [line.split("#", 1)[0].strip() for line in DOCKERFILE.read_text().splitlines()]
    instructions = [line for line in lines if line]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert f'ENTRYPOINT ["{next(iter(scripts))}"]' in instructions
    assert "USER 65532:65532" in instructions
    for line in instructions:
        if line.startswith("COPY") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source
    # The manifests run the same user the image declares.
    pod = _by_kind()["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 65532
