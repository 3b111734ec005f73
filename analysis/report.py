"""One analysis of a comparison, and the report folder written from it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from analysis import budget_tables, diagnostics, text
from analysis.comparison import Analysis
from analysis.curves import STATS, anytime_curves, incumbent_trace
from analysis.errors import ResultsError
from analysis.html_report import render_html
from analysis.load import ResultSet
from analysis.optimum import reported_label, resolve_optimum


def same_metric_note(results: ResultSet) -> str | None:
    """A note when the optimizers' fitness is the reported metric itself (no held-out score)."""
    for config in results.configs.values():
        fitness, reported = config.get("fitness"), config.get("reported")
        if fitness and fitness == reported:
            name = "@".join(str(p) for p in fitness if p is not None)
            return (f"fitness and reported value are the same metric ({name}): the optimizers "
                    "saw the very values this table reports, so it shows how well they "
                    "search, not a held-out score")
    return None


def analyse(
    results: ResultSet,
    budgets: str | Sequence[int] | None = None,
    stat: str = "median",
    optimum: float | None = None,
    optimum_arch: str | None = None,
    with_curves: bool = True,
    with_diagnostics: bool = True,
) -> Analysis:
    """Tables at budgets, pairwise tests, anytime curves and generation diagnostics."""
    if stat not in STATS:
        raise ResultsError(f"unknown curve statistic {stat!r}; allowed: {', '.join(STATS)}")
    notes = list(results.notes)
    same = same_metric_note(results)
    if same:
        notes.insert(0, same)
    opt = resolve_optimum(results, optimum, optimum_arch)
    notes.append(opt.note)
    runs = budget_tables.run_summary(results)
    kept, note = budget_tables.reached_budgets(runs, budget_tables.parse_budgets(budgets))
    if note:
        notes.append(note)
    query_trace = incumbent_trace(results, opt, "queries")
    per_seed = budget_tables.per_seed_values(results, opt, kept, query_trace)
    table = budget_tables.budget_table(per_seed)
    tests = budget_tables.budget_tests(per_seed)
    short = runs[runs["queries"] < max(kept)]
    if len(short):
        listing = ", ".join(
            f"{o}/seed {s} ({q})" for o, s, q in
            short[["optimizer", "seed", "queries"]].head(8).itertuples(index=False)
        )
        more = f" and {len(short) - 8} more" if len(short) > 8 else ""
        notes.append(
            f"runs that stopped before a budget are counted with their final best and flagged "
            f"{text.SHORT_MARK} in 'seeds': {listing}{more} (queries reached in brackets)"
        )
    seed_sets = {name: frozenset(part["seed"]) for name, part in runs.groupby("optimizer",
                                                                          observed=True)}
    if len(set(seed_sets.values())) > 1:
        notes.append(
            "the optimizers were not run on the same seeds: pairs with different seed sets are "
            "compared with the unpaired Mann-Whitney U test"
        )
    if len(seed_sets) > 1:
        notes.append(
            "p-values: two-sided Wilcoxon signed-rank test over paired seeds (W) when two "
            "optimizers share their seeds, else Mann-Whitney U (MWU); p_holm in the test table "
            "is Holm-adjusted over the pairs of one budget"
        )
    curves: dict[str, pd.DataFrame] = {}
    if with_curves:
        curves["queries"] = anytime_curves(results, opt, "queries", stat, trace=query_trace)
        if results.frame["sim_time_s"].notna().any():
            curves["time"] = anytime_curves(results, opt, "time", stat)
        elif results.frame["wall_time_s"].notna().any():
            # trial mode (real training, a lookup): curves against the seconds each run took
            curves["wall"] = anytime_curves(results, opt, "wall", stat)
            notes.append("no simulated time in the results (trial mode): curves against "
                         "wall-clock seconds from each run's start")
        else:
            notes.append("no sim_time_s in the results: no curves against simulated time")
    generations = pd.DataFrame(columns=diagnostics.DIAGNOSTIC_COLUMNS)
    gen_summary = pd.DataFrame()
    if with_diagnostics:
        generations = diagnostics.generation_stats(results)
        gen_summary = diagnostics.generation_summary(generations)
        if len(generations) and generations["mean_hamming"].isna().all():
            notes.append(
                f"architectures of {results.benchmark!r} could not be decoded: no Hamming "
                "diversity"
            )
    return Analysis(
        results=results, optimum=opt, metric_label=reported_label(results), stat=stat,
        budgets=kept, runs=runs, per_seed=per_seed, table=table, tests=tests, curves=curves,
        generations=generations, generation_summary=gen_summary, notes=notes,
    )


def write_report(analysis: Analysis, out: str | Path) -> list[Path]:
    """The report folder: CSV and Markdown tables, PNG and SVG figures, ``report.html``."""
    from analysis import figures  # matplotlib only when figures are drawn

    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResultsError(f"cannot create report folder {out}: {exc}") from exc
    written: list[Path] = []

    def csv(frame: pd.DataFrame, name: str) -> None:
        frame.to_csv(out / name, index=False)
        written.append(out / name)

    cells = analysis.summary_cells()
    csv(analysis.table, "summary.csv")
    csv(analysis.tests, "tests.csv")
    csv(analysis.per_seed, "per_seed.csv")
    csv(analysis.runs, "runs.csv")
    for axis, curve in analysis.curves.items():
        csv(curve, f"curves_{axis}.csv")
    if len(analysis.generations):
        csv(analysis.generations, "generations.csv")
    md = out / "summary.md"
    md.write_text(_markdown(analysis, cells), encoding="utf-8")
    written.append(md)

    colour_of = figures.colours([str(o) for o in analysis.results.optimizers])
    figs: dict[str, tuple[str, list[Path]]] = {}
    for axis, curve in analysis.curves.items():
        if curve.empty:
            continue
        fig = figures.anytime_figure(
            curve, analysis.optimum, analysis.metric_label,
            f"{analysis.title}: best-so-far against {figures.AXIS_LABELS[axis]}", colour_of,
        )
        figs[f"anytime_{axis}"] = (f"Anytime curves against {figures.AXIS_LABELS[axis]}",
                                  figures.save(fig, out / f"anytime_{axis}"))
    fig = figures.budget_figure(analysis.per_seed, analysis.metric_label,
                                f"{analysis.title}: per-seed results at each budget",
                                colour_of, analysis.optimum)
    figs["budgets"] = ("Per-seed results at each budget", figures.save(fig, out / "budgets"))
    if len(analysis.generation_summary):
        fig = figures.diagnostics_figure(
            analysis.generation_summary, f"{analysis.title}: search diagnostics", colour_of
        )
        figs["diagnostics"] = ("Search diagnostics per generation",
                               figures.save(fig, out / "diagnostics"))
    sections: list[str] = []
    from analysis.fronts import write_front_report

    fronts = write_front_report(analysis.results, out, analysis.budgets, colour_of,
                                analysis.title)
    if fronts is not None:  # multi-objective runs only
        front_files, front_figs, section = fronts
        written.extend(front_files)
        for i, (caption, paths) in enumerate(front_figs):
            figs[f"front_{i}"] = (caption, paths)
        sections.append(section)
    for _, paths in figs.values():
        written.extend(paths)
    html = out / "report.html"
    html.write_text(render_html(analysis, cells, figs, sections), encoding="utf-8")
    written.append(html)
    return written


def _markdown(analysis: Analysis, cells: pd.DataFrame) -> str:
    tests = analysis.tests.copy()
    parts = [
        f"# {analysis.title}: comparison at query budgets\n",
        f"Reported metric: {analysis.metric_label}, of the best-by-fitness architecture.\n",
        text.to_markdown(cells),
        "\n## Pairwise tests\n",
        text.to_markdown(tests) if len(tests) else "(fewer than two optimizers)\n",
        "\n## Notes\n",
        "".join(f"- {note}\n" for note in analysis.notes),
    ]
    return "\n".join(parts)
