"""The kubelet's prober: workers, one-attempt prober, results caches."""
