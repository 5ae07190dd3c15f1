"""Metric series for the console's charts: per-block samples recorded by :class:`SeriesRecorder` and read
back downsampled by :func:`fictra.series.queries.query_series`."""
