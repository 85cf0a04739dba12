"""Controllers of the control plane: EndpointSlices, Deployments and ReplicaSets."""
