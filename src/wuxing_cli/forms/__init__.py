"""Data-entry forms (自评表) built from criteria, and merging the filled-in forms of many branches.

- :mod:`.layout` lays out the columns of a self-assessment form (:func:`~.layout.build_form`): the
  reserved columns (支部编码 … 期间), then one column per input field under exactly the field's
  ``header`` so that ``wuxing score`` reads the form back; each column carries its rule in plain words
  (:mod:`.uses` says where a field counts).
- :mod:`.rows` gives the rows under a form: none, or the branches to pre-fill read from a file.
- :mod:`.xlsx` writes a form (or any rows under its columns) as an Excel workbook with header
  comments, input prompts, data validation, a frozen header and a sheet of instructions.
- :mod:`.merge` stacks many submitted forms into one table, reporting duplicate branches and
  forms made for another version of the criteria.
- :mod:`.scaffold` creates a county's working folder (``wuxing init``) from the template files in
  ``scaffold_files/``.

Nothing here prints or exits; problems are raised as :class:`~wuxing_cli.errors.WuxingError`.
The CSV variant of a form is written by :func:`wuxing_cli.report.tabular.csv_bytes`, with the
neutralising policy of :func:`wuxing_cli.io.writers.neutralise` and the BOM rule of every CSV wuxing
writes (``Output.csv_bom`` in :mod:`wuxing_cli.cli.common`: a BOM in a file, none on stdout).
"""
