"""The recipes in deploy/ match the code: every command and flag they run exists in the CLIs (argparse and
click parsers imported, not grepped), every Dask setting is a real Dask config key, ports, environment
variables and paths agree across the recipes, every recipe restarts what exits, and the namespace harness
runs the compose file's own commands."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import dask.config
import pytest
import yaml
from distributed.cli import dask_scheduler, dask_worker  # also registers distributed's defaults with dask.config

from service import cli
from workers.alloc import WORKER_ENV
from workers.executor import SCHEDULER_CONFIG

import netns

DEPLOY = netns.DEPLOY
COMPOSE = netns.compose()
K8S = [doc for doc in yaml.safe_load_all((DEPLOY / "kubernetes/catterms.yaml").read_text()) if doc]
DOCKERFILE = (DEPLOY / "Dockerfile").read_text()
# Keys whose values are free-form maps (environment variables), not further config keys.
FREE_FORM = {"distributed.nanny.pre-spawn-environ", "distributed.nanny.environ"}


def script(name: str) -> Any:
    """A deploy/ script as a module (its parser() is what its command line accepts)."""
    spec = importlib.util.spec_from_file_location(name, DEPLOY / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def containers() -> Iterator[dict]:
    for doc in K8S:
        if doc["kind"] == "Deployment":
            yield from doc["spec"]["template"]["spec"]["containers"]


def recipe_commands() -> list[tuple[str, list[str]]]:
    """(where, argv) of every command the recipes run or their docs tell a user to run."""
    found = [(f"compose {name}", spec["command"]) for name, spec in COMPOSE["services"].items()]
    found += [(f"kubernetes {c['name']}", c["args"]) for c in containers()]
    found.append(("Dockerfile CMD", json.loads(re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.M).group(1))))
    for path in ("README.md", "dask-tls.yaml", "ssh_cluster.py", "supervise.sh", "jobqueue.yaml"):
        text = re.sub(r"\\\n\s*#?\s*", " ", (DEPLOY / path).read_text())  # join continued lines
        for line in text.splitlines():
            plain = re.sub(r"<[^>]*>|\$\([^)]*\)", "X", line)  # placeholders and $(...) stand for one word
            for match in re.finditer(r"\b(catterms (?:serve|jobs|submit|result)|dask (?:scheduler|worker)|"
                                     r"deploy/(?:ssh|netns)_cluster\.py)\b([^|;&#>`]*)", plain):
                found.append((f"{path}: {line.strip()}", [*match.group(1).split(), *shlex.split(match.group(2))]))
    return found


def options(command: Any) -> set[str]:
    return {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}


DASK = {("dask", "scheduler"): options(dask_scheduler.main), ("dask", "worker"): options(dask_worker.main)}


@pytest.mark.parametrize("where, argv", recipe_commands(), ids=lambda v: v if isinstance(v, str) else None)
def test_every_recipe_command_and_flag_exists(where, argv):
    if argv[0] == "catterms":
        known, unknown = cli.parser().parse_known_args(argv[1:])
        assert not [arg for arg in unknown if arg.startswith("-")], f"{where}: unknown catterms flags {unknown}"
    elif argv[0].startswith("deploy/"):
        script(Path(argv[0]).stem).parser().parse_args(argv[1:])
    else:
        flags = {arg.split("=", 1)[0] for arg in argv[2:] if arg.startswith("-")}
        assert flags <= DASK[tuple(argv[:2])], f"{where}: unknown flags {flags - DASK[tuple(argv[:2])]}"


def test_the_commands_were_found():
    where = {w.split(":")[0].split()[0] for w, _ in recipe_commands()}
    assert {"compose", "kubernetes", "Dockerfile", "README.md", "dask-tls.yaml", "ssh_cluster.py"} <= where


def leaves(tree: dict, prefix: str = "") -> Iterator[str]:
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and name not in FREE_FORM:
            yield from leaves(value, f"{name}.")
        else:
            yield name


@pytest.mark.parametrize("name", ["dask.yaml", "dask-tls.yaml"])
def test_dask_settings_are_real_dask_config_keys(name):
    defaults = dask.config.merge(*dask.config.defaults)
    missing = object()
    for key in leaves(yaml.safe_load((DEPLOY / name).read_text())):
        assert dask.config.get(key, default=missing, config=defaults) is not missing, f"{name}: no Dask key {key}"


def test_the_embedded_clusters_scheduler_settings_are_the_deployed_ones():
    deployed = yaml.safe_load((DEPLOY / "dask.yaml").read_text())
    for key, value in SCHEDULER_CONFIG.items():
        assert float(dask.config.get(key, config=deployed)) == value, key  # YAML has no inf: Dask reads "inf"


def test_ports_agree_with_the_cli_and_across_recipes():
    service, scheduler = COMPOSE["services"]["service"]["command"], COMPOSE["services"]["scheduler"]["command"]
    port = service[service.index("--port") + 1]
    assert int(port) == cli.PORT and f"{port}:{port}" in COMPOSE["services"]["service"]["ports"]
    assert f"EXPOSE {port}" in DOCKERFILE
    dask_port = scheduler[scheduler.index("--port") + 1]
    assert f"tcp://scheduler:{dask_port}" in COMPOSE["services"]["worker"]["command"] + service
    services = {doc["metadata"]["name"]: {p["port"] for p in doc["spec"]["ports"]} for doc in K8S
                if doc["kind"] == "Service"}
    assert int(dask_port) in services["dask-scheduler"] and int(port) in services["catterms-api"]
    for c in containers():
        assert f"tcp://dask-scheduler:{dask_port}" in c["args"] or c["name"] == "scheduler"
    assert f'"port": {dask_port}' in (DEPLOY / "ssh_cluster.py").read_text()


def test_environment_variables_are_the_ones_the_code_reads(monkeypatch):
    env = COMPOSE["x-catterms"]["environment"]
    worker_env = {k: v for k, v in env.items() if k != "DASK_CONFIG"}
    assert worker_env == WORKER_ENV
    assert {k: str(v) for k, v in yaml.safe_load((DEPLOY / "dask.yaml").read_text())["distributed"]["nanny"][
        "pre-spawn-environ"].items()} == WORKER_ENV
    prologue = " ".join(yaml.safe_load((DEPLOY / "jobqueue.yaml").read_text())["jobqueue"]["slurm"][
        "job-script-prologue"]).split()
    for key, value in WORKER_ENV.items():
        assert f"{key}={value}" in DOCKERFILE and f"{key}={value}" in prologue
    monkeypatch.setenv("CATTERMS_TOKEN", "from-the-environment")
    monkeypatch.setenv("CATTERMS_URL", "http://from-the-environment:1")
    assert cli.parser().parse_args(["serve"]).token == "from-the-environment"
    assert cli.parser().parse_args(["jobs"]).url == "http://from-the-environment:1"
    assert "CATTERMS_TOKEN" in COMPOSE["services"]["service"]["environment"]
    assert any(e["name"] == "CATTERMS_TOKEN" for c in containers() for e in c.get("env", []))


def test_paths_exist_and_agree():
    config = COMPOSE["x-catterms"]["environment"]["DASK_CONFIG"]
    for volume in COMPOSE["x-catterms"]["volumes"]:
        source, target = volume.split(":")[:2]
        assert (DEPLOY / source).is_file() and str(Path(target).parent) == config
    for source, target in re.findall(r"^COPY (\S+) (\S+)$", DOCKERFILE, re.M):
        assert (netns.REPO / source).exists(), source
    assert f"COPY deploy/dask.yaml {config}/dask.yaml" in DOCKERFILE
    data = netns.COMPOSE_DATA_DIR
    assert f"VOLUME {data}" in DOCKERFILE and f"jobs:{data}" in COMPOSE["services"]["service"]["volumes"]
    assert any(m["mountPath"] == data for c in containers() for m in c.get("volumeMounts", []))
    tls = (DEPLOY / "dask-tls.yaml").read_text()
    for path in re.findall(r"/certs/\S+\.pem", tls):
        assert path.rsplit("/", 1)[1].removesuffix(".pem").removesuffix("-key") in netns.TLS_FILES, path


def test_every_recipe_restarts_what_exits():
    assert {name: spec.get("restart") for name, spec in COMPOSE["services"].items()} == {
        name: "unless-stopped" for name in COMPOSE["services"]}
    for doc in K8S:  # Deployments restart their pods unless told otherwise
        if doc["kind"] == "Deployment":
            assert doc["spec"]["template"]["spec"].get("restartPolicy", "Always") == "Always"
    jobqueue = yaml.safe_load((DEPLOY / "jobqueue.yaml").read_text())["jobqueue"]["slurm"]
    assert jobqueue["python"].split()[0].endswith("deploy/supervise.sh")
    restart = script("ssh_cluster").parser().parse_args(["head", "node1", "--restart", "/opt/c/deploy/supervise.sh"])
    assert restart.restart == "/opt/c/deploy/supervise.sh"


def test_supervise_sh_restarts_its_command_until_it_is_stopped(tmp_path):
    runs = tmp_path / "runs"
    proc = subprocess.Popen([str(DEPLOY / "supervise.sh"), "sh", "-c", f"echo run >> {runs}; exit 3"],
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (not runs.exists() or len(runs.read_text().split()) < 2):
        time.sleep(0.1)
    proc.terminate()
    assert proc.wait(timeout=10) == 0
    assert len(runs.read_text().split()) >= 2 and b"exited with 3; restarting" in proc.stderr.read()


def test_the_harness_runs_the_compose_commands():
    replace = {netns.COMPOSE_SCHEDULER: "tls://10.0.0.2:8786", netns.COMPOSE_DATA_DIR: "/data"}
    for name, spec in COMPOSE["services"].items():
        command, env, restart = netns.recipe(name, replace)
        assert command[0] == str(netns.BIN / spec["command"][0])
        assert command[1:] == [replace.get(arg, arg) for arg in spec["command"][1:]]
        assert env == {k: str(v) for k, v in spec["environment"].items()} and restart
