"""Importers: a benchmark's own files -> an ednag :class:`~ednag.tables.table.Table`.

Each benchmark of :data:`ednag.registry.BENCHMARKS` names its importer, a function
``import_source(source) -> Table``:

- :mod:`.nb201`: a folder of the compact NAS-Bench-201 CSVs (:mod:`.nb201_csv`) or the official
  ``NAS-Bench-201-v1_*.pth`` (:mod:`.nb201_pth`, through ``nas_201_api``).
- :mod:`.nasbench_graph`: the tables shipped inside the ``nas-bench-graph`` wheel.
- :mod:`.transnas`: the TransNAS-Bench-101 micro and macro CSVs (``import_micro``,
  ``import_macro``).
- :mod:`.nasbench_macro`: the NAS-Bench-Macro CIFAR-10 JSON.
"""
