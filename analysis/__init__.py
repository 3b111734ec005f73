"""Result datasets to tables, anytime curves, significance tests and an HTML report.

Entry points:

* :func:`analysis.load.load_results` -- read and check one or many result directories;
* :func:`analysis.report.analyse` -- budget tables, pairwise tests, curves, diagnostics;
* :func:`analysis.report.write_report` -- CSV, Markdown, PNG/SVG figures and ``report.html``;
* :func:`analysis.cli.report_command` (``ednag report``) and
  :func:`analysis.cli.print_summary` (the table ``ednag run`` prints at its end).

Bad input raises :class:`analysis.errors.ResultsError` with the file, field or value named.
"""
