"""The runtime forgets old exited instances, as the kubelet's container GC does."""

from __future__ import annotations

import sim
from sim.kube.cluster import Cluster
from sim.kube.runtime import DEAD_KEPT_PER_CONTAINER, ContainerState
from sim.trace import ListRecorder, Reason


def test_a_crash_loop_keeps_few_instances_and_its_restart_count():
    scenario = sim.load_scenario("scenarios/liveness-exec.yaml").with_duration(3 * 3600)
    recorder = ListRecorder()
    cluster = Cluster(scenario, 1, recorder)
    cluster.run()

    (pod,) = cluster.apiserver.pods.values()
    instances = cluster.kubelet.runtime.instances(pod.uid)
    # GC runs when an instance starts: the newest may have exited since.
    exited = [i for i in instances[:-1] if i.state is ContainerState.EXITED]
    starts = [e for e in recorder.events if e.reason is Reason.STARTED]
    assert len(starts) > 30  # a long crash loop: many instances were made
    assert len(exited) <= DEAD_KEPT_PER_CONTAINER
    assert len(instances) <= DEAD_KEPT_PER_CONTAINER + 1
    # The count lives on in the newest instance (R5.6).
    newest = cluster.kubelet.runtime.restart_count(pod.uid, "liveness")
    assert newest == len(starts) - 1 == starts[-1].restart_count
