"""The model: API server, kubelet and container runtime as SimPy processes."""
