"""The reproduction scorecard: published numbers and claims beside ours, with a verdict each.

Everything published lives in ``config/published.yaml`` (the only place numbers of the paper are
typed in); everything of ours comes from the stats rows ``results/stats/<figure>.csv``
(``presyn.stats.COLUMNS``). This module is pure: it loads and checks the published file, evaluates
each item against a stats table, and renders the results as CSV, Markdown and HTML.

Verdicts:
    ``reproduced``      ours is within the item's tolerance (numbers) or the claim holds (claims);
    ``not reproduced``  it is not;
    ``not run``         the stats row is absent (figure disabled, analysis missing, too few replicates,
                        a NaN) or stands on synthetic stand-in data;
    ``invalid``         the row exists but contradicts the declared unit (a bug to fix, never a result).

Published-file grammar (see the header of ``config/published.yaml``):

numbers: ``{id, figure, what, published, published_sem?, n_published?, unit, tolerance, ours, source}``
    ``source``: where the published value is printed, ``{kind: table|text|caption|figure|code, where: "..."}``
    (``figure``: read off a plot by eye; its tolerance must be one marked ``figure_read: true``, looser;
    ``code``: the printed output of the authors' code, the paper itself prints no number).
    ``ours``: a stats name (or a list of alternative names, the first present wins), or ``{stat: name | [alternatives], field?: value|statistic|p_value|sem,
    unit?: fraction|%|points|..., scale?: float}``, or ``{diff: [a, b], unit?, scale?}`` (value of a
    minus value of b, SEM combined in quadrature).
    ``tolerance``: the name of an entry of ``tolerances`` or an inline mapping:
    ``{abs: x, sem_mult: k}`` (reproduced iff |ours - published| <= x or <= k * combined SEM),
    ``{criterion: significance, alpha: a}`` (same sign as published and our p < a),
    ``{criterion: nonsignificant, alpha: a}`` (our p >= a).
claims: ``{id, figure, claim, basis: paper | our_test: "...", check}``: ``basis: paper`` when the paper itself
    states the test and threshold that ``check`` applies; otherwise ``our_test`` says in words how we
    operationalise the statement (a test, threshold or reading the paper does not give). Check one of
    ``{left: operand, op: OP, right: operand | value: number, margin?: m}``, OP in > >= < <= ~
    (``>``: l > r + m; ``>=``: l >= r - m; ``<``: l < r - m; ``<=``: l <= r + m; ``~``: |l - r| <= m);
    ``{test: operand, p_below: a, sign?: positive|negative|any}`` (sign of the statistic);
    ``{test: operand, p_above: a}``;
    ``{all: [check, ...]}``.

Modules (one job each; every name is re-exported here, so ``presyn.scorecard.<name>`` keeps working):
    ``published``  reading and checking ``config/published.yaml`` (the grammar above; ``duplicate_of``,
                   ``superseded_by``, ``added``, ``after_results``, ``earlier``), the tolerance descriptions;
    ``judging``    resolving operands against the stats rows, the verdict rules, claims, the whole card, counts;
    ``render``     the summary line, Markdown, the basic HTML page, the CSV frame
                   (``presyn.scorecard_page`` is the page a reader sees).
"""

from __future__ import annotations

import logging

from presyn.scorecard.judging import (
    CLOSE,
    CSV_COLUMNS,
    CURRENT,
    DUPLICATE,
    INVALID,
    NOT_REPRODUCED,
    NOT_RUN,
    REPRODUCED,
    SUPERSEDED,
    UNIT_FACTORS,
    UNIT_RANGES,
    VERDICTS,
    Observed,
    Unresolved,
    counts,
    distinct_counts,
    evaluate_check,
    evaluate_claim,
    evaluate_number,
    find_row,
    judge,
    load_stats,
    resolve,
    scorecard,
)
from presyn.scorecard.judging import (
    _evaluate_number as _evaluate_number,
)
from presyn.scorecard.judging import (
    _f as _f,
)
from presyn.scorecard.judging import (
    _fmt as _fmt,
)
from presyn.scorecard.judging import (
    _is_nan as _is_nan,
)
from presyn.scorecard.judging import (
    _is_synthetic as _is_synthetic,
)
from presyn.scorecard.judging import (
    _n_int as _n_int,
)
from presyn.scorecard.judging import (
    _names as _names,
)
from presyn.scorecard.judging import (
    _operand_or_constant as _operand_or_constant,
)
from presyn.scorecard.judging import (
    _status as _status,
)
from presyn.scorecard.judging import (
    _status_fields as _status_fields,
)
from presyn.scorecard.judging import (
    _summary_test as _summary_test,
)
from presyn.scorecard.judging import (
    _three_level as _three_level,
)
from presyn.scorecard.judging import (
    _unit_factor as _unit_factor,
)
from presyn.scorecard.judging import (
    _why_missing as _why_missing,
)
from presyn.scorecard.published import (
    FIELDS,
    NUMBER_CRITERIA,
    OPS,
    SOURCE_KINDS,
    SOURCE_LABELS,
    PublishedFileError,
    check_published,
    claim_statement,
    describe_tolerance,
    link_note,
    load_published,
    source_text,
    tolerance_of,
)
from presyn.scorecard.published import (
    _check_basis as _check_basis,
)
from presyn.scorecard.published import (
    _check_check as _check_check,
)
from presyn.scorecard.published import (
    _check_operand as _check_operand,
)
from presyn.scorecard.published import (
    _check_source as _check_source,
)
from presyn.scorecard.render import (
    THUMBNAIL_BUDGET,
    VERDICT_MARK,
    VERDICT_STYLE,
    RunInfo,
    banner,
    figure_thumbnail,
    markdown_trailer,
    rules_text,
    summary_line,
    to_csv_frame,
    to_html,
    to_markdown,
)
from presyn.scorecard.render import (
    _earlier_cell as _earlier_cell,
)
from presyn.scorecard.render import (
    _figure_sections as _figure_sections,
)
from presyn.scorecard.render import (
    _fmt_num as _fmt_num,
)
from presyn.scorecard.render import (
    _md_escape as _md_escape,
)
from presyn.scorecard.render import (
    _ours_cell as _ours_cell,
)
from presyn.scorecard.render import (
    _pub_cell as _pub_cell,
)
from presyn.scorecard.render import (
    _status_cell as _status_cell,
)
from presyn.scorecard.render import (
    _tally as _tally,
)
from presyn.scorecard.render import (
    _text as _text,
)
from presyn.scorecard.render import (
    _thumbnails as _thumbnails,
)

log = logging.getLogger(__name__)

__all__ = [
    "FIELDS",
    "NUMBER_CRITERIA",
    "OPS",
    "SOURCE_KINDS",
    "SOURCE_LABELS",
    "check_published",
    "claim_statement",
    "describe_tolerance",
    "link_note",
    "load_published",
    "PublishedFileError",
    "source_text",
    "tolerance_of",
    "CLOSE",
    "CSV_COLUMNS",
    "CURRENT",
    "DUPLICATE",
    "INVALID",
    "NOT_REPRODUCED",
    "NOT_RUN",
    "REPRODUCED",
    "SUPERSEDED",
    "UNIT_FACTORS",
    "UNIT_RANGES",
    "VERDICTS",
    "counts",
    "distinct_counts",
    "evaluate_check",
    "evaluate_claim",
    "evaluate_number",
    "find_row",
    "judge",
    "load_stats",
    "Observed",
    "resolve",
    "scorecard",
    "Unresolved",
    "THUMBNAIL_BUDGET",
    "VERDICT_MARK",
    "VERDICT_STYLE",
    "banner",
    "figure_thumbnail",
    "markdown_trailer",
    "rules_text",
    "RunInfo",
    "summary_line",
    "to_csv_frame",
    "to_html",
    "to_markdown",
]
