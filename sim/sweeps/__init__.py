"""The parts of parameter sweeps; ``sim.sweep`` is the public face.

``paths`` finds a field of a resolved scenario from a path such as
``pods[web].containers[app].livenessProbe.periodSeconds``; ``document`` reads the
Sweep document; ``design`` turns parameters into points and derives run seeds;
``points`` applies each point to the base scenario; ``execute`` runs the runs
(in this process, a process pool or Dask) with the ``cache``; ``results`` builds
the tidy frames and writes them.
"""
