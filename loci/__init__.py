"""The ``loci`` command-line application (``loci --help``)."""

__all__: list[str] = []
