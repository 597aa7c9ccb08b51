"""Deterministic synthetic assessment data for any criteria (``wuxing synth``; examples, tests, benchmarks).

:mod:`.table` is the entry point (:func:`~.table.synthesize`, :func:`~.table.write_table`); it lays out
counties, townships and branches (:mod:`.layout`, :mod:`.names`), generates each criteria's input
columns from latent quality (:mod:`.generator`, :mod:`.values`, random streams in :mod:`.streams`) and
spells them as people type them (:mod:`.render`). Needs numpy, the ``synth`` extra; nothing else in
wuxing imports this package or numpy.
"""
