"""Deploy's pure side: flag parsing and validation, and the Workspace manifest (field paths per the CRD)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubectl_kaito import workspace as wsp
from kubectl_kaito.errors import UsageError


def opts(**kw: object) -> wsp.DeployOptions:
    base: dict[str, object] = {"name": "my-llm", "model": "phi-4-mini-instruct", "namespace": "team-a"}
    base.update(kw)
    return wsp.DeployOptions(**base)  # type: ignore[arg-type]  # a dict of mixed values as keywords


# ---- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "my-llm", "phi-4-mini", "a" * 52, "x1-2"])
def test_valid_names(name: str) -> None:
    assert wsp.validate_name(name) == name


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "required"),
        ("a" * 53, "53 characters"),
        # the one DNS-1123 check every command uses (flags.check_workspace_name), same words
        ("My-LLM", "not a DNS-1123 label"),
        ("my_llm", "not a DNS-1123 label"),
        ("-llm", "not a DNS-1123 label"),
        ("llm-", "not a DNS-1123 label"),
        ("my.llm", "not a DNS-1123 label"),
        ("1llm", "start with a letter"),
    ],
)
def test_invalid_names(name: str, why: str) -> None:
    with pytest.raises(UsageError) as e:
        wsp.validate_name(name)
    assert why in e.value.message
    assert e.value.exit_code == 2


# ---- list and selector flags -------------------------------------------------------------------


def test_split_list_is_repeatable_and_comma_separated() -> None:
    assert wsp.split_list(["a,b", " c ", "", "d,,"]) == ["a", "b", "c", "d"]
    assert wsp.split_list(None) == []


def test_label_selector() -> None:
    assert wsp.parse_label_selector(["apps=phi,tier=gpu", "example.com/pool=a"]) == {
        "apps": "phi",
        "tier": "gpu",
        "example.com/pool": "a",
    }
    assert wsp.parse_label_selector(["empty="]) == {"empty": ""}


@pytest.mark.parametrize(
    "value",
    ["apps", "=x", "bad key=x", "apps=bad value", "Example.COM/x=y", "a=" + "v" * 64, "/x=y", "apps=a,apps=b"],
)
def test_label_selector_refusals(value: str) -> None:
    with pytest.raises(UsageError):
        wsp.parse_label_selector([value])


def test_label_selector_refuses_only_reserved_keys() -> None:
    with pytest.raises(UsageError, match="reserve"):
        wsp.parse_label_selector(["kaito.sh/workspace=x"])
    assert wsp.parse_label_selector(["kaito.sh/workspace=x", "apps=y"]) == {"kaito.sh/workspace": "x", "apps": "y"}


# ---- adapters ----------------------------------------------------------------------------------


def test_adapter_with_and_without_strength() -> None:
    assert wsp.parse_adapter("phi-adapter=myacr.azurecr.io/adapters/phi:1.0,strength=0.8") == {
        "source": {"name": "phi-adapter", "image": "myacr.azurecr.io/adapters/phi:1.0"},
        "strength": "0.8",
    }
    assert wsp.parse_adapter("a=img@sha256:abc") == {"source": {"name": "a", "image": "img@sha256:abc"}}


@pytest.mark.parametrize(
    "value",
    [
        "noimage",
        "=img",
        "a=",
        "Bad_Name=img",
        "a=img,strength=1.5",
        "a=img,strength=x",
        "a=img,weight=0.5",
        "a=img,strength=0.1,strength=0.2",
        "a=img with space",
    ],
)
def test_adapter_refusals(value: str) -> None:
    with pytest.raises(UsageError):
        wsp.parse_adapter(value)


def test_adapters_limits() -> None:
    with pytest.raises(UsageError, match="twice"):
        wsp.parse_adapters(["a=img1", "a=img2"])
    with pytest.raises(UsageError, match="at most 10"):
        wsp.parse_adapters([f"a{i}=img" for i in range(11)])
    assert len(wsp.parse_adapters([f"a{i}=img" for i in range(10)])) == 10


# ---- other single values ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["https://example.com/data.parquet", "http://datasets.example.org/x.jsonl"])
def test_urls_ok(url: str) -> None:
    assert wsp.validate_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "example.com/x",
        "http://localhost/x",
        "http://127.0.0.1/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest",
    ],
)
def test_urls_refused(url: str) -> None:
    with pytest.raises(UsageError):
        wsp.validate_url(url)


def test_object_names_and_images() -> None:
    assert wsp.validate_object_name("hf-token", "--model-access-secret") == "hf-token"
    with pytest.raises(UsageError):
        wsp.validate_object_name("HF_TOKEN", "--model-access-secret")
    assert wsp.validate_image("ghcr.io/org/img:1", "--input-image") == "ghcr.io/org/img:1"
    for bad in ("", "img:", "a b"):
        with pytest.raises(UsageError):
            wsp.validate_image(bad, "--input-image")
    assert wsp.validate_instance_type("Standard_NC24ads_A100_v4") == "Standard_NC24ads_A100_v4"
    with pytest.raises(UsageError):
        wsp.validate_instance_type("Standard NC24")


def test_inference_config_source(tmp_path: Path) -> None:
    f = tmp_path / "cfg.yaml"
    f.write_text("vllm:\n  max-model-len: 4096\n")
    assert wsp.inference_config_source(str(f)) == ("file", str(f))
    assert wsp.inference_config_source("my-config") == ("name", "my-config")
    with pytest.raises(UsageError, match="no such file"):
        wsp.inference_config_source(str(tmp_path / "missing.yaml"))
    with pytest.raises(UsageError):
        wsp.inference_config_source("Bad_Name")


def test_read_inference_config(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("vllm:\n  max-model-len: 4096\n")
    assert wsp.read_inference_config(str(good)).startswith("vllm:")
    for text, match in [
        ("a: [1,\n", "not valid YAML"),
        ("- 1\n- 2\n", "mapping"),
        ("kind: ConfigMap\napiVersion: v1\n", "ConfigMap manifest"),
    ]:
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(UsageError, match=match):
            wsp.read_inference_config(str(bad))


# ---- mode rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "flag"),
    [
        ({"adapters": [{"source": {"name": "a", "image": "i"}}]}, "--adapter"),
        ({"inference_config": "cfg"}, "--inference-config"),
        ({"runtime": "vllm"}, "--runtime"),
        ({"enable_load_balancer": True}, "--enable-load-balancer"),
    ],
)
def test_inference_only_flags_refused_with_tuning(kw: dict[str, object], flag: str) -> None:
    o = opts(tuning=True, input_urls=["https://e.com/d"], output_pvc="out", **kw)
    with pytest.raises(UsageError) as e:
        wsp.validate_modes(o)
    assert e.value.message == f"{flag} cannot be used with --tuning (inference only)"


@pytest.mark.parametrize(
    ("kw", "flag"),
    [
        ({"tuning_method": "lora"}, "--tuning-method"),
        ({"input_urls": ["https://e.com/d"]}, "--input-urls"),
        ({"input_pvc": "p"}, "--input-pvc"),
        ({"input_image": "i"}, "--input-image"),
        ({"output_image": "i"}, "--output-image"),
        ({"output_image_push_secret": "s"}, "--output-image-push-secret"),
        ({"output_pvc": "p"}, "--output-pvc"),
        ({"tuning_config": "c"}, "--tuning-config"),
    ],
)
def test_tuning_only_flags_refused_without_tuning(kw: dict[str, object], flag: str) -> None:
    with pytest.raises(UsageError) as e:
        wsp.validate_modes(opts(**kw))
    assert e.value.message == f"{flag} needs --tuning (tuning only)"


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"output_pvc": "out"}, "exactly one input"),
        ({"input_urls": ["https://e.com/d"], "input_pvc": "p", "output_pvc": "out"}, "exactly one input"),
        ({"input_pvc": "p"}, "exactly one output"),
        (
            {"input_pvc": "p", "output_pvc": "o", "output_image": "i", "output_image_push_secret": "s"},
            "exactly one output",
        ),
        ({"input_pvc": "p", "output_image": "i"}, "needs --output-image-push-secret"),
        ({"input_pvc": "p", "output_pvc": "o", "output_image_push_secret": "s"}, "only goes with --output-image"),
        ({"input_pvc": "p", "output_pvc": "o", "tuning_method": "full"}, "--tuning-method"),
        ({"input_pvc": "p", "output_pvc": "o", "count": 2}, "--count must be 1"),
    ],
)
def test_tuning_rules(kw: dict[str, object], match: str) -> None:
    with pytest.raises(UsageError, match=match):
        wsp.validate_modes(opts(tuning=True, **kw))


def test_count_and_runtime_checks() -> None:
    with pytest.raises(UsageError, match="at least 1"):
        wsp.validate_modes(opts(count=0))
    with pytest.raises(UsageError, match="--runtime"):
        wsp.validate_modes(opts(runtime="tgi"))


# ---- the manifest ---------------------------------------------------------------------------------------


def test_minimal_manifest_omits_everything_not_given() -> None:
    ws = wsp.build_workspace(opts())
    assert ws == {
        "apiVersion": "kaito.sh/v1beta1",
        "kind": "Workspace",
        "metadata": {"name": "my-llm", "namespace": "team-a"},
        "resource": {"labelSelector": {"matchLabels": {"apps": "my-llm"}}},
        "inference": {"preset": {"name": "phi-4-mini-instruct"}},
    }
    assert "spec" not in ws and "instanceType" not in ws["resource"] and "count" not in ws["resource"]


def test_full_inference_manifest() -> None:
    ws = wsp.build_workspace(
        opts(
            instance_type="Standard_NC24ads_A100_v4",
            count=2,
            label_selector={"apps": "phi"},
            preferred_nodes=["node-a", "node-b"],
            model_access_secret="hf-token",
            image_pull_secrets=["pull-a", "pull-b"],
            adapters=[{"source": {"name": "ad", "image": "reg/ad:1"}, "strength": "0.8"}],
            inference_config="my-config",
            runtime="transformers",
            enable_load_balancer=True,
            bypass_resource_checks=True,
        ),
        api_version="kaito.sh/v1alpha1",
    )
    assert ws["apiVersion"] == "kaito.sh/v1alpha1"
    assert ws["metadata"]["annotations"] == {
        "kaito.sh/runtime": "transformers",
        "kaito.sh/enablelb": "True",
        "kaito.sh/bypass-resource-checks": "True",
    }
    assert ws["resource"] == {
        "instanceType": "Standard_NC24ads_A100_v4",
        "count": 2,
        "labelSelector": {"matchLabels": {"apps": "phi"}},
        "preferredNodes": ["node-a", "node-b"],
    }
    assert ws["inference"] == {
        "preset": {
            "name": "phi-4-mini-instruct",
            "presetOptions": {"imagePullSecrets": ["pull-a", "pull-b"], "modelAccessSecret": "hf-token"},
        },
        "config": "my-config",
        "adapters": [{"source": {"name": "ad", "image": "reg/ad:1"}, "strength": "0.8"}],
    }
    assert "tuning" not in ws


@pytest.mark.parametrize(
    ("kw", "source", "dest"),
    [
        (
            {"input_urls": ["https://e.com/a", "https://e.com/b"], "output_pvc": "out"},
            {"urls": ["https://e.com/a", "https://e.com/b"]},
            {"volumeSource": {"persistentVolumeClaim": {"claimName": "out"}}},
        ),
        (
            {"input_pvc": "data", "output_image": "reg/out:1", "output_image_push_secret": "push"},
            {"volumeSource": {"persistentVolumeClaim": {"claimName": "data"}}},
            {"image": "reg/out:1", "imagePushSecret": "push"},
        ),
        (
            {"input_image": "reg/data:1", "output_pvc": "out"},
            {"image": "reg/data:1"},
            {"volumeSource": {"persistentVolumeClaim": {"claimName": "out"}}},
        ),
    ],
)
def test_tuning_manifest(kw: dict[str, object], source: dict[str, object], dest: dict[str, object]) -> None:
    ws = wsp.build_workspace(opts(tuning=True, instance_type="Standard_NC24ads_A100_v4", **kw))
    assert "inference" not in ws
    assert ws["tuning"] == {
        "preset": {"name": "phi-4-mini-instruct"},
        "method": "qlora",
        "input": source,
        "output": dest,
    }


def test_tuning_method_and_config() -> None:
    ws = wsp.build_workspace(
        opts(
            tuning=True,
            tuning_method="lora",
            tuning_config="my-lora",
            input_pvc="d",
            output_pvc="o",
            model_access_secret="hf",
        )
    )
    assert ws["tuning"]["method"] == "lora" and ws["tuning"]["config"] == "my-lora"
    assert ws["tuning"]["preset"]["presetOptions"] == {"modelAccessSecret": "hf"}


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_an_endless_flag_file_is_refused_after_64_mib() -> None:
    with pytest.raises(UsageError, match=r"cannot read --inference-config /dev/zero: .*larger than 64 MiB"):
        wsp.read_inference_config("/dev/zero")
    with pytest.raises(UsageError, match=r"cannot read --template /dev/zero: .*larger than 64 MiB"):
        wsp.read_pod_template("/dev/zero")


def test_inference_configmap_and_owner() -> None:
    cm = wsp.build_inference_configmap("my-llm", "team-a", "vllm: {}\n")
    assert cm["metadata"]["name"] == "my-llm-inference-config"
    assert cm["data"] == {"inference_config.yaml": "vllm: {}\n"}
    ws = {"apiVersion": "kaito.sh/v1beta1", "kind": "Workspace", "metadata": {"name": "my-llm", "uid": "u-1"}}
    assert wsp.owner_reference(ws) == {
        "apiVersion": "kaito.sh/v1beta1",
        "kind": "Workspace",
        "name": "my-llm",
        "uid": "u-1",
    }


def test_output_destination() -> None:
    assert wsp.output_destination({"tuning": {"output": {"image": "reg/x:1"}}}) == "reg/x:1"
    pvc = {"tuning": {"output": {"volumeSource": {"persistentVolumeClaim": {"claimName": "out"}}}}}
    assert wsp.output_destination(pvc) == "pvc/out"


@pytest.mark.parametrize(
    ("model", "name"),
    [("phi-4-mini-instruct", "phi-4-mini-instruct"), ("Qwen/Qwen3.5-9B", "qwen3-5-9b"), ("org/7b", "b")],
)
def test_suggest_workspace_name(model: str, name: str) -> None:
    assert wsp.suggest_workspace_name(model) == name
    assert wsp.validate_name(wsp.suggest_workspace_name(model))


# ---- issue 13: partition, adapters from volumes, your own container, KAITO's annotations ----------------


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("mode=mig,profile=1g.10gb", {"mode": "mig", "profile": "1g.10gb"}),
        ("MODE=MIG,profile=7g.141gb", {"mode": "mig", "profile": "7g.141gb"}),
        ("mode=accelerator,count=2", {"mode": "accelerator", "count": 2}),
        (" mode=accelerator , count=8 ,", {"mode": "accelerator", "count": 8}),
    ],
)
def test_partition(value: str, want: dict[str, object]) -> None:
    assert wsp.parse_partition(value) == want


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("profile=1g.10gb", "mode is required"),
        ("mode=gpu", 'unsupported partition mode "gpu", supported modes are "mig" and "accelerator"'),
        ("mode=mig", "invalid MIG profile format ''"),
        ("mode=mig,profile=10gb", "invalid MIG profile format '10gb'"),
        ("mode=mig,profile=1g.10gb,count=1", "count is only valid for accelerator mode"),
        ("mode=accelerator", "missing field(s): resource.partition.count"),
        ("mode=accelerator,count=2,profile=1g.10gb", "profile is not valid for accelerator mode"),
        ("mode=accelerator,count=-1", "not a whole number"),
        ("mode=accelerator,count=99999999999999999999", "it must be from 1 to"),
        ("mode=mig,mode=accelerator", "mode given twice"),
        ("mode", "is not KEY=VALUE"),
        ("", "it is empty"),
    ],
)
def test_partition_refused(value: str, why: str) -> None:
    with pytest.raises(UsageError) as e:
        wsp.parse_partition(value)
    assert why in e.value.message


def test_partition_rules_with_other_flags() -> None:
    part = {"mode": "accelerator", "count": 1}
    with pytest.raises(UsageError, match="only supported with BYO nodes"):
        wsp.build_workspace(opts(partition=part, instance_type="Standard_NC24ads_A100_v4"))
    with pytest.raises(UsageError, match="not supported for tuning workloads"):
        wsp.build_workspace(opts(partition=part, tuning=True, input_pvc="a", output_pvc="b"))
    ws = wsp.build_workspace(opts(partition=part))
    assert ws["resource"]["partition"] == part and "instanceType" not in ws["resource"]


def test_adapter_sources(tmp_path: Path) -> None:
    vol = tmp_path / "v.yaml"
    vol.write_text("azureFile:\n  shareName: s\n  secretName: x\n")
    assert wsp.parse_adapter("a=pvc:claim-1,strength=0.5") == {
        "source": {"name": "a", "volumeSource": {"persistentVolumeClaim": {"claimName": "claim-1"}}},
        "strength": "0.5",
    }
    assert wsp.parse_adapter(f"a=volume:{vol}") == {
        "source": {"name": "a", "volumeSource": {"azureFile": {"shareName": "s", "secretName": "x"}}}
    }
    assert wsp.parse_adapter("a=r.io/a:1,pull-secret=p1,pull-secret=p2") == {
        "source": {"name": "a", "image": "r.io/a:1", "imagePullSecrets": ["p1", "p2"]}
    }


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("a=pvc:", "invalid --adapter pvc"),
        ("a=volume:/no/such.yaml", "cannot read --adapter volume"),
        ("a=pvc:c,pull-secret=s", "pull-secret only goes with an image source"),
        ("a=r.io/a:1,pull-secret=Bad_Secret", "invalid --adapter pull-secret"),
        ("a=r.io/a:1,weight=1", "unknown part"),
    ],
)
def test_adapter_sources_refused(value: str, why: str) -> None:
    with pytest.raises(UsageError) as e:
        wsp.parse_adapter(value)
    assert why in e.value.message


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("- a\n", "must hold one volume source"),
        ("{}\n", "must hold one volume source"),
        ("nfs: {server: a}\nazureFile: {shareName: b}\n", "must hold one volume source"),
        ("nfs: [1]\n", "must hold one volume source"),
        ("a: [\n", "is not valid YAML"),
    ],
)
def test_volume_source_file_refused(tmp_path: Path, text: str, why: str) -> None:
    f = tmp_path / "v.yaml"
    f.write_text(text)
    with pytest.raises(UsageError) as e:
        wsp.read_volume_source(str(f), "--input-volume")
    assert why in e.value.message and "--input-volume" in e.value.message


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("spec:\n  containers: [{name: c, image: i}]\n", {"spec": {"containers": [{"name": "c", "image": "i"}]}}),
        ("containers: [{name: c, image: i}]\n", {"spec": {"containers": [{"name": "c", "image": "i"}]}}),
        (
            "kind: PodTemplate\ntemplate:\n  metadata: {labels: {a: b}}\n  spec: {containers: [{name: c, image: i}]}\n",
            {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}},
        ),
        (
            "kind: Pod\nmetadata: {name: p, namespace: n}\nspec: {containers: [{name: c, image: i}]}\n",
            {"spec": {"containers": [{"name": "c", "image": "i"}]}},
        ),
    ],
)
def test_pod_template_file(tmp_path: Path, text: str, want: dict[str, object]) -> None:
    f = tmp_path / "t.yaml"
    f.write_text(text)
    assert wsp.read_pod_template(str(f)) == want


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("spec: {}\n", "spec.containers must list at least one container"),
        ("spec: {containers: [{name: c}]}\n", "spec.containers[0] needs a name and an image"),
        ("apiVersion: v1\nspec: {containers: [{name: c, image: i}]}\n", "unknown field(s) apiVersion"),
        ("- 1\n", "must hold a pod template"),
        ("", "must hold a pod template"),
    ],
)
def test_pod_template_file_refused(tmp_path: Path, text: str, why: str) -> None:
    f = tmp_path / "t.yaml"
    f.write_text(text)
    with pytest.raises(UsageError) as e:
        wsp.read_pod_template(str(f))
    assert why in e.value.message


def test_own_container_workspace() -> None:
    ws = wsp.build_workspace(opts(model=None, image="r.io/app:1", port=5000, command=["serve"], args=["--x"]))
    assert ws["inference"] == {
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "my-llm",
                        "image": "r.io/app:1",
                        "command": ["serve"],
                        "args": ["--x"],
                        "ports": [{"containerPort": 5000}],
                    }
                ]
            }
        }
    }
    tpl = {"spec": {"containers": [{"name": "c", "image": "i"}]}}
    assert wsp.build_workspace(opts(model=None, template=tpl))["inference"] == {"template": tpl}


@pytest.mark.parametrize(
    ("kw", "why"),
    [
        ({"image": "i"}, "--model and --image cannot be used together"),
        ({"model": None}, "--model is required (or --template FILE / --image IMAGE"),
        ({"model": None, "image": "i", "template": {}}, "--template and --image cannot be used together"),
        (
            {"model": None, "image": "i", "adapters": [{"source": {"name": "a", "image": "i"}}]},
            "--adapter cannot be used with --image",
        ),
        (
            {"model": None, "template": {}, "use_local_weights": True},
            "--use-local-weights cannot be used with --template",
        ),
        ({"port": 80}, "--port only go(es) with --image"),
        ({"model": None, "image": "i", "tuning": True}, "--image cannot be used with --tuning"),
        ({"model": None, "tuning": True, "input_pvc": "a", "output_pvc": "b"}, "--model is required: the preset"),
        (
            {"adapters": [{"source": {"name": "a", "image": "i"}, "strength": "1.0"}]},
            "vLLM does not support adapter strength",
        ),
        (
            {"tuning": True, "input_urls": ["https://e.com/d"], "input_pull_secrets": ["s"], "output_pvc": "o"},
            "--input-pull-secret only goes with --input-image",
        ),
    ],
)
def test_mode_rules_of_issue_13(kw: dict[str, object], why: str) -> None:
    with pytest.raises(UsageError) as e:
        wsp.build_workspace(opts(**kw))
    assert why in e.value.message


def test_strength_is_fine_with_transformers_either_way() -> None:
    adapter = [{"source": {"name": "a", "image": "i"}, "strength": "1.0"}]
    assert wsp.build_workspace(opts(adapters=adapter, runtime="transformers"))["inference"]["adapters"] == adapter
    ws = wsp.build_workspace(opts(adapters=adapter, annotations={"kaito.sh/runtime": "transformers"}))
    assert ws["metadata"]["annotations"] == {"kaito.sh/runtime": "transformers"}


def test_named_annotations_and_generic_ones() -> None:
    ws = wsp.build_workspace(
        opts(
            performance_mode="throughput",
            disable_benchmark=True,
            use_local_weights=True,
            disable_model_streaming=True,
            model_mirror_storage_class="blob",
            streaming_service_account="sa",
            node_class_name="nc",
            node_image_family="ubuntu",
            labels={"team": "a"},
            annotations={"example.com/x": "1", "kaito.sh/disable-benchmark": "true"},
        )
    )
    assert ws["metadata"]["labels"] == {"team": "a"}
    assert ws["metadata"]["annotations"] == {
        "kaito.sh/performance-mode": "throughput",
        "kaito.sh/disable-benchmark": "true",
        "kaito.sh/use-local-weights": "true",
        "kaito.sh/model-streaming": "disabled",
        "kaito.sh/model-mirror-storage-class": "blob",
        "kaito.sh/streaming-service-account": "sa",
        "kaito.sh/node-class-name": "nc",
        "kaito.sh/node-image-family": "ubuntu",
        "example.com/x": "1",
    }


@pytest.mark.parametrize(
    ("kw", "why"),
    [
        (
            {"enable_load_balancer": True, "annotations": {"kaito.sh/enablelb": "true"}},
            "--enable-load-balancer writes kaito.sh/enablelb: 'True', but --annotation sets it to 'true'",
        ),
        ({"annotations": {"kaito.sh/performance-mode": "max"}}, "'max' is not a valid performance mode"),
        ({"annotations": {"kaito.sh/use-local-weights": "True"}}, '\'True\' must be "true" or "false"'),
        ({"annotations": {"kaito.sh/node-image-family": "windows"}}, "unsupported node image family 'windows'"),
    ],
)
def test_annotations_refused(kw: dict[str, object], why: str) -> None:
    with pytest.raises(UsageError) as e:
        wsp.build_workspace(opts(**kw))
    assert why in e.value.message


def test_split_command() -> None:
    assert wsp.split_command("accelerate launch 'tfs/inference api.py' --x=1", "--command") == [
        "accelerate",
        "launch",
        "tfs/inference api.py",
        "--x=1",
    ]
    for bad in ("", "   ", "'open"):
        with pytest.raises(UsageError):
            wsp.split_command(bad, "--command")
