"""The demo county (organisation.yaml), its seeding (``seed``) and the ``autopilot`` that works processes
like a room of officers: for ``guantong demo``, the process tests and the benchmarks, never imported by
the engine or the web app at run time."""
