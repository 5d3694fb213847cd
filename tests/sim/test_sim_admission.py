"""CRD schema (pruning, defaults, validation) and the simulated KAITO validating webhook."""

from __future__ import annotations

import pytest

WS = "/apis/kaito.sh/v1beta1/namespaces/default/workspaces"
PREFIX = 'admission webhook "validation.workspace.kaito.sh" denied the request: validation failed: '


def _tuning(name: str, **over) -> dict:
    tuning = {
        "preset": {"name": "phi-4"},
        "method": "qlora",
        "input": {"urls": ["https://example.com/data.parquet"]},
        "output": {"image": "myacr.azurecr.io/adapter:1", "imagePushSecret": "push"},
    }
    tuning.update(over)
    return {
        "apiVersion": "kaito.sh/v1beta1",
        "kind": "Workspace",
        "metadata": {"name": name},
        "resource": {"instanceType": "Standard_NC24ads_A100_v4", "labelSelector": {"matchLabels": {"a": "b"}}},
        "tuning": tuning,
    }


def test_unknown_fields_are_pruned_with_a_warning(sim, http):
    ws = _tuning("t1")
    ws["tuning"]["input"] = {"pvc": "my-claim", "urls": ["https://example.com/d.parquet"]}
    ws["spec"] = {"oops": True}
    r = http.post(WS, json=ws)
    assert r.status_code == 201, r.text
    body = r.json()
    assert "pvc" not in body["tuning"]["input"] and "spec" not in body
    warnings = r.headers.get_list("warning")
    assert '299 - "unknown field \\"tuning.input.pvc\\""' in warnings or any("tuning.input.pvc" in w for w in warnings)
    stored = sim.get("kaito.sh/v1beta1", "Workspace", "t1")
    assert "pvc" not in stored["tuning"]["input"]


def test_strict_field_validation_refuses_unknown_fields(sim, http):
    ws = _tuning("t2")
    ws["tuning"]["input"]["pvc"] = "x"
    r = http.post(WS, params={"fieldValidation": "Strict"}, json=ws)
    assert r.status_code == 400
    assert r.json()["message"] == 'strict decoding error: unknown field "tuning.input.pvc"'


def test_preserve_unknown_fields_are_kept(sim, http):
    ws = _tuning("t3")
    ws["tuning"]["input"] = {"volumeSource": {"persistentVolumeClaim": {"claimName": "data"}}}
    r = http.post(WS, json=ws)
    assert r.status_code == 201, r.text
    assert r.json()["tuning"]["input"]["volumeSource"] == {"persistentVolumeClaim": {"claimName": "data"}}


def test_defaults_differ_per_version(sim, http):
    alpha = {
        "apiVersion": "kaito.sh/v1alpha1",
        "kind": "Workspace",
        "metadata": {"name": "old"},
        "resource": {"labelSelector": {"matchLabels": {"a": "b"}}},
        "inference": {"preset": {"name": "phi-4-mini-instruct"}},
    }
    r = http.post("/apis/kaito.sh/v1alpha1/namespaces/default/workspaces", json=alpha)
    assert r.status_code == 201, r.text
    assert r.json()["resource"]["instanceType"] == "Standard_NC24ads_A100_v4"
    beta = dict(alpha, apiVersion="kaito.sh/v1beta1", metadata={"name": "new"})
    r = http.post(WS, json=beta)
    assert r.status_code == 400  # no default in v1beta1 -> the webhook asks for instanceType
    assert "instanceType is required when node auto-provisioning is enabled" in r.json()["message"]


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda w: w.pop("inference"), "Either Inference or Tuning must be specified, not neither: spec"),
        (
            lambda w: w.update(tuning=_tuning("x")["tuning"]),
            "Either Inference or Tuning must be specified, but not both: spec",
        ),
        (
            lambda w: w["inference"].update(template={"spec": {"containers": [{"name": "c", "image": "i"}]}}),
            "Preset and Template cannot be set at the same time: ",
        ),
        (lambda w: w["inference"].pop("preset"), "missing field(s): inference.Preset or Template must be specified"),
        (
            lambda w: w["inference"]["preset"].update(name="gpt-9000"),
            "invalid value: Unsupported inference preset name gpt-9000: inference.presetName",
        ),
        (
            lambda w: w["inference"]["preset"].update(name="falcon-7b"),
            "invalid value: Unsupported inference preset name falcon-7b: inference.presetName",
        ),
        (
            lambda w: w["inference"]["preset"].update(name="phi-2"),
            "Model phi-2 is deprecated and no longer supported: resource.presetName",
        ),
        (lambda w: w["metadata"].update(name="x" * 64), "invalid value: must be no more than 63 characters: name"),
        (
            lambda w: w["inference"].update(adapters=[{"source": {"name": "a", "image": "img"}}] * 2),
            "Duplicate adapter source name found: a: ",
        ),
        (
            lambda w: w["inference"].update(
                adapters=[{"source": {"name": f"a{i}", "image": "img"}} for i in range(11)]
            ),
            "Number of Adapters exceeds the maximum limit, maximum of 10 allowed: ",
        ),
        (
            lambda w: w["inference"].update(adapters=[{"source": {"name": "a", "image": "i"}, "strength": "0.5"}]),
            "Runtime validation: vLLM does not support adapter strength: ",
        ),
        (lambda w: w["resource"].update(instanceType="m5.large"), "invalid value: Unsupported instance type m5.large."),
        (
            lambda w: w["metadata"].update(annotations={"kaito.sh/performance-mode": "turbo"}),
            '"turbo" is not a valid performance mode',
        ),
        (
            lambda w: w["inference"].update(config="missing-cm"),
            "ConfigMap 'missing-cm' specified in 'config' not found in namespace 'default': config",
        ),
    ],
)
def test_webhook_denies_invalid_inference_workspaces(sim, http, make_ws, mutate, reason):
    ws = make_ws("ws1")
    mutate(ws)
    r = http.post(WS, json=ws)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["kind"] == "Status" and body["status"] == "Failure" and body["code"] == 400
    assert body["message"].startswith(PREFIX)
    assert reason in body["message"]
    assert sim.get("kaito.sh/v1beta1", "Workspace", ws["metadata"]["name"]) is None


@pytest.mark.parametrize(
    "preset",
    [
        "phi-4-mini-instruct",
        "Qwen/Qwen3-0.6B",
        "microsoft/Phi-4-mini-instruct",
        "gpt-oss-20b",
        "deepseek-r1-distill-llama-8b",
    ],
)
def test_webhook_accepts_valid_presets(sim, http, make_ws, preset):
    r = http.post(WS, json=make_ws("ok", preset=preset))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    "over, reason",
    [
        (
            {"input": {"urls": ["https://e.com/x"], "image": "img"}},
            "Exactly one of URLs, Volume, or Image must be specified: tuning.Input.Image, tuning.Input.URLs, "
            "tuning.Input.Volume",
        ),
        (
            {"input": {"urls": ["http://10.0.0.1/data"]}},
            "data source URL must not target a loopback, private, or link-local address: tuning.Input.URLs",
        ),
        ({"output": {"image": "img"}}, "missing field(s): tuning.Output.Must specify imagePushSecret"),
        ({"output": {}}, "missing field(s): tuning.Output.Exactly one of Volume or Image must be specified"),
        ({"method": "full"}, "invalid value: full: tuning.Method"),
        ({"preset": {"name": "nope"}}, "invalid value: Unsupported tuning preset name nope: tuning.presetName"),
    ],
)
def test_webhook_denies_invalid_tuning(sim, http, over, reason):
    r = http.post(WS, json=_tuning("tn", **over))
    assert r.status_code == 400, r.text
    assert r.json()["message"].startswith(PREFIX) and reason in r.json()["message"]


def test_webhook_checks_tuning_count_and_accepts_valid(sim, http):
    ws = _tuning("tn")
    ws["resource"]["count"] = 2
    r = http.post(WS, json=ws)
    assert r.status_code == 400 and "Tuning does not currently support multinode" in r.json()["message"]
    assert http.post(WS, json=_tuning("tn")).status_code == 201


def test_webhook_runs_on_dry_run(sim, http, make_ws):
    r = http.post(WS, params={"dryRun": "All"}, json=make_ws("ws1", preset="nope"))
    assert r.status_code == 400 and "Unsupported inference preset name nope" in r.json()["message"]


def test_webhook_immutable_fields_on_update(sim, http):
    sim.seed_workspace("im")
    cur = http.get(f"{WS}/im").json()
    cur["inference"]["preset"]["name"] = "phi-4"
    cur["resource"]["labelSelector"] = {"matchLabels": {"apps": "other"}}
    r = http.put(f"{WS}/im", json=cur)
    assert r.status_code == 400
    msg = r.json()["message"]
    assert msg.startswith(PREFIX)
    # Knative merges errors with the same message
    assert msg == PREFIX + "field is immutable: inference.preset, resource.labelSelector"
    r = http.patch(
        f"{WS}/im", json={"resource": {"count": 3}}, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert r.status_code == 400 and "field is immutable: resource.count" in r.json()["message"]
    r = http.patch(
        f"{WS}/im",
        json={"resource": {"instanceType": "Standard_NC48ads_A100_v4"}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 400 and "instanceType cannot be changed once set" in r.json()["message"]
    r = http.patch(
        f"{WS}/im",
        json={"metadata": {"labels": {"ok": "yes"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200


def test_webhook_can_be_switched_off(sim_factory, make_ws):
    import ssl

    import httpx

    for opts in ({"webhook": False}, {"operator": False}):
        s = sim_factory(env=False, **opts)
        ctx = ssl.create_default_context(cadata=s.ca_pem.decode())
        with httpx.Client(base_url=s.url, verify=ctx, headers={"Authorization": f"Bearer {s.token}"}) as c:
            r = c.post(WS, json=make_ws("ws1", preset="not-a-model"))
            assert r.status_code == 201, (opts, r.text)


def test_sim_apply_bypasses_admission(sim, make_ws):
    out = sim.apply(make_ws("byp", preset="not-a-model"))
    assert out["inference"]["preset"]["name"] == "not-a-model"
    assert out["metadata"]["uid"] and out["metadata"]["resourceVersion"]


def test_webhook_down_fails_like_failure_policy_fail(sim, http, make_ws):
    sim.webhook_down = True
    r = http.post(WS, json=make_ws("ws1"))
    assert r.status_code == 500 and r.json()["reason"] == "InternalError"
    assert r.json()["message"].startswith(
        'Internal error occurred: failed calling webhook "validation.workspace.kaito.sh"'
    )
