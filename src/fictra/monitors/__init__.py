"""Monitors: configured detectors (one module per family) that turn block batches and polled state into
findings. :mod:`fictra.monitors.config` holds the config-as-code models of every family and
:mod:`fictra.monitors.base` the :class:`~fictra.monitors.base.Monitor` protocol they implement."""
