"""Importers that turn external scene descriptions into a :class:`SceneGraph`."""

from memory_core.importers.procthor import import_procthor_house, load_procthor_house
from memory_core.importers.spark_dsg import import_spark_dsg

__all__ = ["import_procthor_house", "import_spark_dsg", "load_procthor_house"]
