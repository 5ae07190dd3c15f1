"""Emergency action kinds: the :class:`~fictra.emergency.kinds.base.Kind` protocol (plan, dry run,
execute, observe, verify), one module per family and the registry
(:mod:`fictra.emergency.kinds.registry`). Importing this package imports no kind module."""
