"""The main job: follow the chain, run the monitors, keep the alerts, serve /metrics (``fictra up``).

``assemble`` builds a :class:`~fictra.platform.assemble.Platform` from settings and config-as-code;
``run`` drives its tasks until stopped. The devnet helpers start the local chain and its simulated
activity when the configured network is the devnet.
"""
