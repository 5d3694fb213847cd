"""`kubectl-kaito-sim`: run the simulated KAITO cluster.

    kubectl-kaito-sim serve [--port N] [--kubeconfig PATH] [--ready-after S] [--seed-demo]
    kubectl-kaito-sim start [same options]      # background; prints `export KUBECONFIG=...`
    kubectl-kaito-sim status | stop
    kubectl-kaito-sim run [options] -- CMD ARGS...

State of `start` lives in $KAITO_SIM_HOME (default ~/.kube/kaito-sim).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

EXIT_NOT_RUNNING = 3


def state_dir() -> Path:
    env = os.environ.get("KAITO_SIM_HOME")
    return Path(env) if env else Path.home() / ".kube" / "kaito-sim"


def _state_file(d: Path) -> Path:
    return d / "state.json"


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=int, default=0, help="API server port (default: a free port)")
    p.add_argument("--kubeconfig", help="where to write the kubeconfig (default: <state dir>/kubeconfig)")
    p.add_argument(
        "--ready-after",
        type=float,
        default=3.0,
        metavar="SECONDS",
        help="seconds a new Workspace takes to become ready (default 3)",
    )
    p.add_argument("--seed-demo", action="store_true", help="start with a few demo workspaces")
    p.add_argument("--namespace", default="default", help="namespace of the kubeconfig context")
    p.add_argument("--no-kaito", action="store_true", help="start without KAITO (no kaito.sh API group)")
    p.add_argument("--no-operator", action="store_true", help="KAITO CRDs only: no operator, controller, webhook")
    p.add_argument("--no-webhook", action="store_true", help="do not run the simulated validating webhook")
    p.add_argument("--v1alpha1-only", action="store_true", help="serve only kaito.sh/v1alpha1")
    p.add_argument("--lb-pending", action="store_true", help="LoadBalancer Services never get an external IP")
    p.add_argument(
        "--extra-san",
        action="append",
        default=[],
        metavar="SAN",
        help="extra subjectAltName for the server certificate (IP:x or DNS:x); repeatable",
    )
    p.add_argument(
        "--ttft",
        type=float,
        default=None,
        metavar="SECONDS",
        help="OpenAI stand-in: seconds before the first token of an answer",
    )
    p.add_argument(
        "--tokens-per-second",
        type=float,
        default=None,
        metavar="N",
        help="OpenAI stand-in: tokens per second of each answer after the first",
    )
    p.add_argument(
        "--max-num-seqs",
        type=int,
        default=None,
        metavar="N",
        help="OpenAI stand-in: answers generated at once; more requests wait in a queue",
    )
    p.add_argument(
        "--node-provisioner",
        default="azure-gpu-provisioner",
        choices=("azure-gpu-provisioner", "karpenter", "byo"),
        help="KAITO's nodeProvisioner (byo: bring your own GPU nodes)",
    )
    p.add_argument(
        "--cleanup",
        default="fast",
        choices=("fast", "slow", "failing"),
        help="workspace deletion: fast (KAITO v0.12), slow (held a few seconds), failing (held)",
    )
    p.add_argument(
        "--legacy-conditions",
        action="store_true",
        help="a KAITO v0.1-v0.3.0 controller: WorkspaceReady instead of WorkspaceSucceeded",
    )
    p.add_argument(
        "--gateway",
        action="store_true",
        help="Gateway API Inference Extension: an InferencePool, HTTPRoute and Gateway per InferenceSet",
    )
    p.add_argument(
        "--inferenceset",
        default="served",
        choices=("served", "v1alpha1", "none"),
        help="InferenceSets served as Workspaces are (default), only at v1alpha1, or not at all (KAITO before v0.8)",
    )


def _make_sim(args: argparse.Namespace):
    from .cluster import SimCluster

    return SimCluster(
        ready_after=args.ready_after,
        kaito=not args.no_kaito,
        served_versions=("v1alpha1",) if args.v1alpha1_only else ("v1alpha1", "v1beta1"),
        operator=not args.no_operator,
        webhook=not args.no_webhook,
        lb_pending=args.lb_pending,
        extra_sans=tuple(args.extra_san),
        port=args.port,
        ttft=args.ttft,
        tokens_per_second=args.tokens_per_second,
        max_num_seqs=args.max_num_seqs,
        node_provisioner=args.node_provisioner,
        cleanup=args.cleanup,
        legacy_conditions=args.legacy_conditions,
        cleanup_delay=max(3.0, args.ready_after),
        gateway=args.gateway,
        inferenceset_versions={"served": None, "v1alpha1": ("v1alpha1",), "none": ()}[args.inferenceset],
    )


def seed_demo(sim) -> None:
    sim.seed_workspace("phi-4-mini", model="phi-4-mini-instruct")
    sim.seed_workspace("qwen3", model="Qwen/Qwen3-0.6B", service_type="LoadBalancer")
    sim.seed_workspace("mistral-broken", model="mistral-7b-instruct", ready=False)
    sim.controller.fail_workspace("mistral-broken", reason="ImagePullError")


def _serve_forever(sim, stop: threading.Event) -> None:
    while not stop.is_set():
        stop.wait(0.5)
    sim.stop()


def cmd_serve(args: argparse.Namespace) -> int:
    d = Path(args.state_dir) if args.state_dir else state_dir()
    sim = _make_sim(args).start()
    if args.seed_demo:
        seed_demo(sim)
    kubeconfig = Path(args.kubeconfig) if args.kubeconfig else d / "kubeconfig"
    sim.write_kubeconfig(kubeconfig, namespace=args.namespace)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.state_dir:
        d.mkdir(parents=True, exist_ok=True)
        tmp = _state_file(d).with_suffix(".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "url": sim.url,
                    "openai_url": sim.openai_url,
                    "kubeconfig": str(kubeconfig.resolve()),
                    "started": time.time(),
                }
            )
        )
        tmp.replace(_state_file(d))
    print(f"kaito-sim: API server {sim.url}, OpenAI stand-in {sim.openai_url}", file=sys.stderr, flush=True)
    print(f"export KUBECONFIG={shlex.quote(str(kubeconfig.resolve()))}", flush=True)
    try:
        _serve_forever(sim, stop)
    finally:
        if args.state_dir:
            try:
                st = json.loads(_state_file(d).read_text())
                if st.get("pid") == os.getpid():
                    _state_file(d).unlink()
            except (OSError, ValueError):
                pass
    return 0


def _read_state(d: Path) -> dict | None:
    try:
        return json.loads(_state_file(d).read_text())
    except (OSError, ValueError):
        return None


def _is_sim_process(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            return b"kaito_sim" in cmdline.read_bytes()
        except OSError:
            return False
    return True


def _answers(state: dict, timeout: float = 2.0) -> bool:
    import http.client
    from urllib.parse import urlsplit

    import yaml

    try:
        cfg = yaml.safe_load(Path(state["kubeconfig"]).read_text())
        import base64

        ca = base64.b64decode(cfg["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
        ctx = ssl.create_default_context(cadata=ca)
        u = urlsplit(state["url"])
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=timeout)
        conn.request("GET", "/readyz")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except Exception:  # noqa: BLE001 - any failure means "not answering"
        return False


def _running_state(d: Path) -> dict | None:
    st = _read_state(d)
    if st and _is_sim_process(int(st.get("pid", 0))) and _answers(st):
        return st
    return None


def cmd_start(args: argparse.Namespace) -> int:
    d = state_dir()
    d.mkdir(parents=True, exist_ok=True)
    st = _running_state(d)
    if st:
        print(f"kaito-sim: already running at {st['url']} (pid {st['pid']})", file=sys.stderr)
        print(f"export KUBECONFIG={shlex.quote(st['kubeconfig'])}")
        return 0
    try:
        _state_file(d).unlink()
    except OSError:
        pass
    argv = [
        sys.executable,
        "-m",
        "kaito_sim",
        "serve",
        "--state-dir",
        str(d),
        "--port",
        str(args.port),
        "--ready-after",
        str(args.ready_after),
        "--namespace",
        args.namespace,
    ]
    if args.kubeconfig:
        argv += ["--kubeconfig", str(Path(args.kubeconfig).resolve())]
    for flag in (
        "seed_demo",
        "no_kaito",
        "no_operator",
        "no_webhook",
        "v1alpha1_only",
        "lb_pending",
        "legacy_conditions",
        "gateway",
    ):
        if getattr(args, flag):
            argv.append("--" + flag.replace("_", "-"))
    argv += [
        "--node-provisioner",
        args.node_provisioner,
        "--cleanup",
        args.cleanup,
        "--inferenceset",
        args.inferenceset,
    ]
    for san in args.extra_san:
        argv += ["--extra-san", san]
    with open(d / "sim.log", "ab") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, cwd=str(d)
        )
    deadline = time.time() + 20
    while time.time() < deadline:
        if proc.poll() is not None:
            print(f"kaito-sim: failed to start (exit {proc.returncode}); see {d / 'sim.log'}", file=sys.stderr)
            return 1
        st = _read_state(d)
        if st and st.get("pid") == proc.pid and _answers(st):
            print(
                f"kaito-sim: running at {st['url']} (pid {proc.pid}); stop with: kubectl-kaito-sim stop",
                file=sys.stderr,
            )
            print(f"export KUBECONFIG={shlex.quote(st['kubeconfig'])}")
            return 0
        time.sleep(0.1)
    print(f"kaito-sim: did not answer within 20s; see {d / 'sim.log'}", file=sys.stderr)
    proc.terminate()
    return 1


def cmd_stop(args: argparse.Namespace) -> int:
    d = state_dir()
    st = _read_state(d)
    if not st or not _is_sim_process(int(st.get("pid", 0))):
        print("kaito-sim: not running", file=sys.stderr)
        try:
            _state_file(d).unlink()
        except OSError:
            pass
        return 0
    pid = int(st["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + 10
    while time.time() < deadline and _is_sim_process(pid):
        time.sleep(0.05)
    if _is_sim_process(pid):
        print(f"kaito-sim: pid {pid} did not stop", file=sys.stderr)
        return 1
    try:
        _state_file(d).unlink()
    except OSError:
        pass
    print(f"kaito-sim: stopped (pid {pid})", file=sys.stderr)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    st = _running_state(state_dir())
    if not st:
        print("kaito-sim: not running")
        return EXIT_NOT_RUNNING
    print(f"kaito-sim: running at {st['url']} (pid {st['pid']})")
    print(f"kubeconfig: {st['kubeconfig']}")
    print(f"openai: {st.get('openai_url', '')}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        print("kaito-sim: run needs a command after --", file=sys.stderr)
        return 2
    sim = _make_sim(args).start()
    tmp = tempfile.mkdtemp(prefix="kaito-sim-run-")
    try:
        if args.seed_demo:
            seed_demo(sim)
        kubeconfig = Path(args.kubeconfig) if args.kubeconfig else Path(tmp) / "kubeconfig"
        sim.write_kubeconfig(kubeconfig, namespace=args.namespace)
        env = dict(os.environ, KUBECONFIG=str(kubeconfig), KAITO_SIM_URL=sim.url, KAITO_SIM_OPENAI_URL=sim.openai_url)
        # kubectl caches discovery per host:port; a fresh cluster on a reused port must not see an old cache
        env.setdefault("KUBECACHEDIR", str(Path(tmp) / "kube-cache"))
        try:
            proc = subprocess.Popen(cmd, env=env)
        except FileNotFoundError:
            print(f"kaito-sim: command not found: {cmd[0]}", file=sys.stderr)
            return 127
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:
                continue  # the child got the SIGINT too; wait for it to finish
    finally:
        sim.stop()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubectl-kaito-sim", description="A simulated Kubernetes cluster with KAITO installed."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run in the foreground until interrupted")
    _add_common(p)
    p.add_argument("--state-dir", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("start", help="run in the background; prints `export KUBECONFIG=...`")
    _add_common(p)
    p.set_defaults(func=cmd_start)
    sub.add_parser("stop", help="stop the background simulator").set_defaults(func=cmd_stop)
    sub.add_parser("status", help="is the background simulator running? (exit 3 if not)").set_defaults(func=cmd_status)
    p = sub.add_parser(
        "run",
        help="start, run CMD with KUBECONFIG set, stop; exits with CMD's code",
        usage="kubectl-kaito-sim run [options] -- CMD [ARGS...]",
    )
    _add_common(p)
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        import cryptography  # noqa: F401  (the sim mints its own CA and certificates)
    except ImportError:
        print(
            "error: the simulated cluster needs the 'cryptography' package\n"
            "hint: pip install kubectl-kaito-sim (from a kubectl-kaito checkout: pip install ./sim)",
            file=sys.stderr,
        )
        return 1
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
