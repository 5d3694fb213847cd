"""InferenceSets (issue 14) through the plugin, against the simulated KAITO v0.12 cluster."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.crd_schema import validate_object
from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]
IS_CRD: dict[str, Any] = yaml.safe_load((ROOT / "kubectl_kaito" / "data" / "kaito.sh_inferencesets.yaml").read_text())
SKU = ("--instance-type", "Standard_NC24ads_A100_v4")
MODEL = ("--model", "phi-4-mini-instruct")


def deploy_set(name: str = "phi", replicas: int = 2, *extra: str) -> Any:
    return run_cli("deploy", name, *MODEL, *SKU, "--replicas", str(replicas), *extra)


def replicas_of(sim: Any, name: str = "phi") -> list[dict[str, Any]]:
    return [
        w
        for w in sim.list("kaito.sh/v1beta1", "Workspace", "default")
        if (w["metadata"].get("labels") or {}).get("inferenceset.kaito.sh/created-by") == name
    ]


# ---- deploy ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        (),
        ("--node-count-limit", "4", "--update-strategy", "rollingupdate", "--max-unavailable", "50%"),
        ("--update-strategy", "OnDelete", "--label", "team=nlp", "--annotation", "example.com/owner=a"),
        ("--disable-benchmark", "--runtime", "transformers", "--enable-load-balancer"),
        ("--model-access-secret", "hf", "--image-pull-secret", "pull", "--adapter", "a=r.io/a:1"),
        ("--max-unavailable", "2", "--performance-mode", "throughput"),
    ],
)
def test_dry_run_prints_an_inferenceset_the_bundled_crd_accepts(extra: tuple[str, ...]) -> None:
    r = deploy_set("phi", 3, *extra, "--dry-run")
    assert r.exit_code == 0, r.stderr
    obj = yaml.safe_load(r.stdout)
    assert obj["kind"] == "InferenceSet" and obj["spec"]["replicas"] == 3
    assert validate_object(obj, IS_CRD) == []


def test_image_template_set_validates_too() -> None:
    r = run_cli("deploy", "web", "--image", "python:3.12", "--replicas", "2", *SKU, "--dry-run", "-o", "json")
    assert r.exit_code == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["spec"]["template"]["inference"]["template"]["spec"]["containers"][0]["image"] == "python:3.12"
    assert validate_object(obj, IS_CRD) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--replicas", "0"), "invalid --replicas value '0': it must be from 1 to 1000"),
        (("--replicas", "inf"), "invalid --replicas value 'inf': not a whole number"),
        (("--replicas", "-1"), "invalid --replicas value '-1': not a whole number"),
        (("--node-count-limit", "3"), "--node-count-limit needs --replicas"),
        (("--replicas", "2", "--count", "2"), "--count cannot be used with --replicas"),
        (("--replicas", "2", "--max-unavailable", "0%"), "a percentage must be from 1% to 100%"),
        (("--replicas", "2", "--update-strategy", "Recreate"), "invalid --update-strategy 'Recreate'"),
    ],
)
def test_bad_set_flags_are_one_line_exit_2(args: tuple[str, ...], message: str) -> None:
    r = run_cli("deploy", "phi", *MODEL, *SKU, *args)
    assert r.exit_code == 2
    assert r.stdout == ""
    assert message in r.stderr.splitlines()[0]


def test_deploy_replicas_creates_the_set_and_kaito_makes_the_replicas(sim: Any) -> None:
    r = deploy_set("phi", 2)
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "inferenceset.kaito.sh/phi created\n"
    assert sim.get("kaito.sh/v1beta1", "Workspace", "phi", "default") is None  # no Workspace of that name
    sim.wait_until(lambda: len(replicas_of(sim)) == 2)


def test_deploy_replicas_wait_prints_each_replica_endpoint_without_a_gateway(sim: Any) -> None:
    r = deploy_set("phi", 2, "--wait", "--timeout", "30s")
    assert r.exit_code == 0, r.stderr
    urls = r.stdout.splitlines()
    names = sorted(w["metadata"]["name"] for w in replicas_of(sim))
    assert sorted(urls) == [f"http://{n}.default.svc.cluster.local/v1/chat/completions" for n in names]
    iset = sim.get("kaito.sh/v1beta1", "InferenceSet", "phi", "default")
    assert iset["status"]["readyReplicas"] == 2


def test_deploy_replicas_wait_prints_the_gateway_url(sim_factory: Any) -> None:
    cluster = sim_factory(gateway=True)
    r = deploy_set("phi", 2, "--wait", "--timeout", "30s")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == f"http://127.0.0.1:{cluster.gateway_port}/v1/chat/completions\n"


def test_deploy_replicas_on_kaito_without_inferencesets_names_the_version(sim_factory: Any) -> None:
    sim_factory(inferenceset_versions=())
    r = deploy_set("phi", 2)
    assert r.exit_code == 1
    assert r.stdout == ""
    first = r.stderr.splitlines()[0]
    assert first.startswith("error: this cluster's KAITO does not serve InferenceSets")
    assert "v0.8" in first and "v0.11" in first


def test_deploy_replicas_at_v1alpha1_only(sim_factory: Any) -> None:
    cluster = sim_factory(inferenceset_versions=("v1alpha1",))
    r = deploy_set("phi", 1)
    assert r.exit_code == 0, r.stderr
    assert any(
        q.path.startswith("/apis/kaito.sh/v1alpha1/namespaces/default/inferencesets") and q.method == "POST"
        for q in cluster.requests
    )


def test_existing_set_is_a_conflict(sim: Any) -> None:
    assert deploy_set("phi", 1).exit_code == 0
    r = deploy_set("phi", 1)
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.splitlines()[0] == 'error: inferenceset "phi" already exists in namespace "default"'


# ---- status ------------------------------------------------------------------------------------------


def _ready_set(sim: Any, name: str = "phi", replicas: int = 2) -> None:
    r = deploy_set(name, replicas, "--wait", "--timeout", "30s")
    assert r.exit_code == 0, r.stderr


def test_status_list_shows_the_set_as_one_row_and_folds_its_replicas(sim: Any) -> None:
    _ready_set(sim)
    assert run_cli("deploy", "solo", *MODEL, *SKU, "--wait").exit_code == 0
    r = run_cli("status")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[0] == "NAME"
    names = [ln.split()[0] for ln in lines[1:]]
    assert names == ["is/phi", "solo"]  # the replicas phi-xxxxx are not listed twice
    row = lines[1].split()
    assert "2/2" in row and row[row.index("2/2") + 1] == "ready"
    # the replicas are still Workspaces: a selector lists them, and -o json keeps every Workspace
    listed = json.loads(run_cli("status", "-o", "json").stdout)
    assert len(listed["items"]) == 3


def test_status_of_a_set_shows_replicas_nodes_endpoints_and_conditions(sim: Any) -> None:
    _ready_set(sim)
    r = run_cli("status", "phi")
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    assert "Kind:               InferenceSet" in out
    assert "Replicas:           2/2 ready" in out
    assert "InferenceSetReady    True     inferencesetReady" in out
    for ws in replicas_of(sim):
        n = ws["metadata"]["name"]
        line = next(ln for ln in out.splitlines() if ln.strip().startswith(n))
        assert "Ready" in line and ws["status"]["workerNodes"][0] in line
        assert f"http://{n}.default.svc.cluster.local/v1/chat/completions" in line
    # a replica says which set owns it
    one = replicas_of(sim)[0]["metadata"]["name"]
    r = run_cli("status", one)
    assert r.stdout.rstrip().splitlines()[-1] == "Replica of: InferenceSet phi (kubectl kaito status phi -n default)"


# ---- get-endpoint ------------------------------------------------------------------------------------


def test_get_endpoint_without_a_gateway_is_one_clear_line_exit_4(sim: Any) -> None:
    _ready_set(sim)
    r = run_cli("get-endpoint", "phi")
    assert r.exit_code == 4 and r.stdout == ""
    lines = r.stderr.splitlines()
    assert lines[0] == (
        "error: inferenceset default/phi has 2 replicas and no gateway route: no one URL serves them all"
    )
    assert lines[1].startswith("hint: pick one with --replica 1..2") and "gatewayAPIInferenceExtension" in lines[1]


def test_get_endpoint_json_lists_every_replica_and_replica_n_picks_one(sim: Any) -> None:
    _ready_set(sim)
    info = json.loads(run_cli("get-endpoint", "phi", "-o", "json").stdout)
    assert info["kind"] == "InferenceSet" and info["model"] == "phi" and info["endpoint"] is None
    assert (info["replicas"], info["readyReplicas"]) == (2, 2)
    urls = [w["endpoint"] for w in info["workspaces"]]
    assert all(u and u.endswith(".default.svc.cluster.local/v1/chat/completions") for u in urls)
    r = run_cli("get-endpoint", "phi", "--replica", "2")
    assert r.exit_code == 0 and r.stdout == urls[1] + "\n"
    r = run_cli("get-endpoint", "phi", "--replica", "3")
    assert r.exit_code == 2 and "has 2 replica workspace(s)" in r.stderr


def test_get_endpoint_with_a_gateway_prints_its_url_and_the_model_name(sim_factory: Any) -> None:
    cluster = sim_factory(gateway=True)
    _ready_set(cluster)
    r = run_cli("get-endpoint", "phi")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == f"http://127.0.0.1:{cluster.gateway_port}/v1/chat/completions\n"
    info = json.loads(run_cli("get-endpoint", "phi", "-o", "json", "--path", "/v1").stdout)
    assert info["endpoint"] == f"http://127.0.0.1:{cluster.gateway_port}/v1"
    assert info["model"] == "phi" and info["type"] == "Gateway"
    assert info["gateway"] == {
        "name": "inference-gateway",
        "httpRoute": "phi-route",
        "inferencePool": "phi-inferencepool",
        "url": f"http://127.0.0.1:{cluster.gateway_port}",
    }


# ---- scale -------------------------------------------------------------------------------------------


def test_scale_goes_through_the_scale_subresource_and_waits(sim: Any) -> None:
    _ready_set(sim, replicas=1)
    r = run_cli("scale", "phi", "--replicas", "3", "--wait", "--timeout", "30s")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "inferenceset.kaito.sh/phi scaled\n"
    patches = [q for q in sim.requests if q.method == "PATCH"]
    assert [q.path for q in patches] == ["/apis/kaito.sh/v1beta1/namespaces/default/inferencesets/phi/scale"]
    iset = sim.get("kaito.sh/v1beta1", "InferenceSet", "phi", "default")
    assert iset["spec"]["replicas"] == 3 and iset["status"]["readyReplicas"] == 3
    r = run_cli("scale", "phi", "--replicas=1", "--wait")
    assert r.exit_code == 0, r.stderr
    sim.wait_until(lambda: len([w for w in replicas_of(sim) if not w["metadata"].get("deletionTimestamp")]) == 1)


def test_scale_refusals(sim: Any) -> None:
    assert run_cli("deploy", "solo", *MODEL, *SKU).exit_code == 0
    r = run_cli("scale", "solo", "--replicas", "2")
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.splitlines()[0] == (
        "error: workspace default/solo is one Workspace, not an InferenceSet: it has no replicas to scale"
    )
    r = run_cli("scale", "nothing", "--replicas", "2")
    assert r.exit_code == 3
    assert r.stderr.splitlines()[0] == 'error: inferenceset "nothing" not found in namespace "default"'
    for bad in ("-1", "nan", "1e3", "1001"):
        r = run_cli("scale", "phi", "--replicas", bad)
        assert r.exit_code == 2 and r.stderr.startswith("error: invalid --replicas value"), r.stderr
    assert run_cli("scale", "phi").exit_code == 2


# ---- logs, chat, delete, connect ----------------------------------------------------------------------


def test_logs_of_a_set_read_every_replica_prefixed_by_its_pod(sim: Any) -> None:
    _ready_set(sim)
    r = run_cli("logs", "phi", "--tail", "1")
    assert r.exit_code == 0, r.stderr
    pods = sorted(f"{w['metadata']['name']}-0" for w in replicas_of(sim))
    prefixes = sorted(ln.split("]", 1)[0].lstrip("[").split("/")[0] for ln in r.stdout.splitlines())
    assert prefixes == pods


def test_chat_through_a_replica_and_through_the_gateway(sim_factory: Any) -> None:
    cluster = sim_factory(gateway=True)
    _ready_set(cluster)
    r = run_cli("chat", "phi", "-m", "hello")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "Hello from phi. You said: hello (turn 1)\n"
    assert cluster.openai.requests[-1]["via"] == "proxy"
    r = run_cli("chat", "phi", "--gateway", "-m", "hi")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "Hello from phi. You said: hi (turn 1)\n"
    assert cluster.openai.requests[-1]["via"] == "gateway"
    second = sorted(w["metadata"]["name"] for w in replicas_of(cluster))
    r = run_cli("chat", "phi", "--replica", "2", "-m", "x")
    assert r.exit_code == 0, r.stderr
    assert cluster.openai.requests[-1]["workspace"] in second


def test_chat_gateway_without_one_is_exit_4(sim: Any) -> None:
    _ready_set(sim)
    r = run_cli("chat", "phi", "--gateway", "-m", "hi")
    assert r.exit_code == 4 and r.stdout == ""
    assert r.stderr.splitlines()[0] == "error: inferenceset default/phi has no gateway route"


def test_delete_a_set_deletes_the_set_never_its_replicas_one_by_one(sim: Any) -> None:
    _ready_set(sim)
    one = replicas_of(sim)[0]["metadata"]["name"]
    r = run_cli("delete", one, "--yes")
    assert r.exit_code == 1 and r.stdout == ""
    assert (
        r.stderr.splitlines()[0] == f"error: workspace default/{one} is a replica of InferenceSet phi: KAITO "
        "would replace it"
    )
    r = run_cli("delete", "--all", "--dry-run")
    assert r.stdout == 'inferenceset.kaito.sh "phi" deleted (dry run)\n'
    before = len(sim.requests)
    r = run_cli("delete", "phi", "--yes", "--wait", "--timeout", "20s")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == 'inferenceset.kaito.sh "phi" deleted\n'
    deletes = [q.path for q in sim.requests[before:] if q.method == "DELETE"]
    assert deletes == ["/apis/kaito.sh/v1beta1/namespaces/default/inferencesets/phi"]
    assert sim.get("kaito.sh/v1beta1", "InferenceSet", "phi", "default") is None
    sim.wait_until(lambda: not replicas_of(sim))


def test_connect_relays_to_a_ready_replica(sim: Any) -> None:
    import signal
    import subprocess
    import sys

    import httpx

    from tests.helpers import subprocess_env

    _ready_set(sim)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubectl_kaito", "connect", "phi", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        assert first.startswith("OPENAI_BASE_URL="), first
        models = httpx.get(first.split("=", 1)[1] + "/models", timeout=10).json()
        assert models["data"][0]["id"] == "phi"
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    assert "inferenceset default/phi: relaying to replica phi-" in err


def test_replicas_dry_run_never_imports_the_cluster_client() -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom kubectl_kaito import cli\n"
        "rc = cli.main(['deploy', 'phi', '--model', 'phi-4-mini-instruct', '--replicas', '2', '--dry-run'])\n"
        "heavy = [m for m in ('httpx', 'kubectl_kaito.client', 'kubectl_kaito.resources') if m in sys.modules]\n"
        "print(rc, heavy, file=sys.stderr)\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "KUBECONFIG": "/nonexistent", "HOME": "/tmp"},
    )
    assert p.stderr.strip().splitlines()[-1] == "0 []", p.stderr
    assert "kind: InferenceSet" in p.stdout


# ---- issue 14 gaps: status SET -o ..., get-endpoint a b / -A, status -w with sets ----------------------


def _kubectl(*args: str) -> str:
    import subprocess
    import sys

    p = subprocess.run(
        [str(Path(sys.executable).parent / "kubectl"), *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_status_of_a_set_in_object_formats_is_the_inferenceset_as_kubectl_get_prints_it(sim: Any) -> None:
    _ready_set(sim)
    r = run_cli("status", "phi", "-o", "json")
    assert r.exit_code == 0, r.stderr
    # kubectl 1.37.1 `kubectl get is phi -o json`: the same object
    assert json.loads(r.stdout) == json.loads(_kubectl("get", "is", "phi", "-o", "json"))
    assert json.loads(r.stdout)["kind"] == "InferenceSet"
    r = run_cli("status", "phi", "-o", "yaml")
    assert r.exit_code == 0 and yaml.safe_load(r.stdout)["spec"]["replicas"] == 2
    r = run_cli("status", "phi", "-o", "name")
    assert (r.exit_code, r.stdout) == (0, "inferenceset.kaito.sh/phi\n")
    assert _kubectl("get", "is", "phi", "-o", "name") == r.stdout
    r = run_cli("status", "phi", "-o", "jsonpath={.status.readyReplicas}")
    assert (r.exit_code, r.stdout) == (0, "2")
    # with a Workspace beside it: a List of both, and the table gives the set its `is/` row
    assert run_cli("deploy", "solo", *MODEL, *SKU, "--wait").exit_code == 0
    listed = json.loads(run_cli("status", "phi", "solo", "-o", "json").stdout)
    assert [(i["kind"], i["metadata"]["name"]) for i in listed["items"]] == [
        ("InferenceSet", "phi"),
        ("Workspace", "solo"),
    ]
    r = run_cli("status", "phi", "solo")
    assert r.exit_code == 0, r.stderr
    rows = [ln.split() for ln in r.stdout.splitlines()[1:]]
    assert [row[0] for row in rows] == ["is/phi", "solo"] and "2/2" in rows[0]
    r = run_cli("status", "phi", "nope", "-o", "name")
    assert (r.exit_code, r.stdout) == (3, "inferenceset.kaito.sh/phi\n")
    assert 'workspace "nope" not found' in r.stderr


def test_get_endpoint_of_several_names_and_all_namespaces_folds_each_set(sim_factory: Any) -> None:
    cluster = sim_factory(gateway=True)
    _ready_set(cluster)
    assert run_cli("deploy", "solo", *MODEL, *SKU, "--wait").exit_code == 0
    gw = f"http://127.0.0.1:{cluster.gateway_port}/v1/chat/completions"
    r = run_cli("get-endpoint", "phi", "solo")
    assert r.exit_code == 0, r.stderr
    rows = [ln.split() for ln in r.stdout.splitlines()]
    assert rows == [
        ["NAME", "URL", "READY"],
        ["is/phi", gw, "true"],
        ["solo", "http://solo.default.svc.cluster.local/v1/chat/completions", "true"],
    ]
    r = run_cli("get-endpoint", "-A")
    assert r.exit_code == 0, r.stderr
    names = [ln.split()[1] for ln in r.stdout.splitlines()[1:]]
    assert names == ["is/phi", "solo"]  # the replicas phi-xxxxx are folded into the set's row
    items = json.loads(run_cli("get-endpoint", "-A", "-o", "json").stdout)
    assert [i.get("inferenceset") or i.get("workspace") for i in items] == ["phi", "solo"]
    assert items[0]["endpoint"] == gw and len(items[0]["workspaces"]) == 2


def test_get_endpoint_of_a_set_without_a_gateway_in_a_table_is_none(sim: Any) -> None:
    _ready_set(sim)
    r = run_cli("get-endpoint", "-A")
    assert r.exit_code == 0, r.stderr
    assert [ln.split() for ln in r.stdout.splitlines()[1:]] == [["default", "is/phi", "<none>", "true"]]


def test_watch_with_sets_shows_the_replica_workspaces_and_says_so(sim: Any) -> None:
    from tests.cli.test_status import Plugin

    _ready_set(sim)
    replicas = sorted(w["metadata"]["name"] for w in replicas_of(sim))
    proc = Plugin("status", "-w")
    try:
        proc.wait_for(lambda ln: ln.split()[:1] == ["NAME"])
        proc.wait_for(lambda ln: ln.split()[:1] == [replicas[-1]])
        assert [ln.split()[0] for ln in proc.seen[1:]] == replicas
    finally:
        code, err = proc.interrupt()
    assert code == 130 and "Traceback" not in err
    assert "note: the watch shows Workspaces: the replicas of InferenceSet phi appear as their own Workspaces" in err
    r = run_cli("status", "phi", "-w", "-o", "json")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("error: --watch shows Workspaces; an InferenceSet is shown once")
