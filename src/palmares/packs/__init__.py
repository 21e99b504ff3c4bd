"""Task packs: ready-made tasks shipped with Palmarès, their data and the code they need.

Each pack is a folder of task folders (``task.yaml`` plus its data) and, where the tasks need
them, dataset generators (``palmares.loaders`` plugins) and metrics (``palmares.metrics``
plugins). See :mod:`palmares.packs.fr`.
"""
