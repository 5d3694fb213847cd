"""kubectl-kaito: a kubectl plugin for KAITO, the Kubernetes AI Toolchain Operator."""

__version__ = "0.1.0"
