"""A simulated Kubernetes cluster with KAITO installed, for tests, demos and benchmarks.

    from kaito_sim import SimCluster
    with SimCluster(ready_after=0.3) as sim:
        sim.write_kubeconfig("/tmp/kubeconfig")

See docs/simulator.md.
"""

from .cluster import LogFlood, SimCluster
from .openai import OpenAIStandIn, Response
from .server import SimRequest

__all__ = ["LogFlood", "OpenAIStandIn", "Response", "SimCluster", "SimRequest"]
