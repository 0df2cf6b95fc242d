"""`certificate.html`: the certificate as a page, with a per-rank timeline of every failing scenario.

One section per clause; for each clause with evidence, a table with one lane (row) per rank and one
column per call. A cell shows the stage after the call (coloured), the rank's local decision against
rank 0's and the one it returned, the collectives it entered, and the error, stall or death that ended
it there. The call where the ranks part is outlined and labelled, and every violation links to its
cell. The page is self-contained (inline CSS, no script, no external asset) and each scenario's
timeline is capped at `SCENARIO_CAP` characters, the total stated at the top.
"""

from __future__ import annotations

import html
import os
import re

from ...records.fingerprints import describe

SCENARIO_CAP = 120_000
ENTERED_SHOWN = 4
RANK_IN_TEXT = re.compile(r"\brank (\d+)\b")
STAGE_COLOURS = {
    "no seed": "#eeeeee",
    "UNKNOWN": "#dddddd",
    "DORMANT": "#e8e8f0",
    "GERMINATED": "#d6ecff",
    "TRAINING": "#c2e0ff",
    "BLENDING": "#d2f5d2",
    "HOLDING": "#b5eab5",
    "FOSSILIZED": "#8fd88f",
    "PRUNED": "#ffd9b3",
    "EMBARGOED": "#ffc891",
    "RESETTING": "#ffe9a8",
}
STATE_WORDS = {
    "none": "no call",
    "skipped": "not asked",
    "never_reached": "never reached",
    "stuck_in_collective": "STUCK in a collective",
    "stalled": "STALLED in its own code",
    "killed": "DIED here",
    "exited": "EXITED here",
}
STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
.verdict{font-weight:bold}.fail{color:#b00020}.pass{color:#1b5e20}
table.summary td,table.summary th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}
.scroll{overflow-x:auto}
table.timeline{border-collapse:collapse;margin:.6em 0}
table.timeline th,table.timeline td{border:1px solid #bbb;padding:4px 6px;vertical-align:top;min-width:9em}
table.timeline th.lane{min-width:5em;background:#f4f4f4}
td.cell div{white-space:nowrap}
.parted{outline:3px solid #d50000;outline-offset:-3px}
th.parted{background:#ffebee}
.mark{color:#d50000;font-weight:bold;display:block}
.bad{color:#b00020;font-weight:bold}
.coll{font-family:ui-monospace,monospace;font-size:12px;color:#333}
.violations li{margin:.2em 0}
td.cell:target{box-shadow:inset 0 0 0 3px #2962ff}
.legend span{display:inline-block;padding:1px 6px;margin:1px;border:1px solid #bbb}
"""


def to_html(certificate: dict) -> str:
    """The whole certificate as one page."""
    impl = certificate["implementation"]
    sections, total = [], 0
    for index, clause in enumerate(certificate["clauses"]):
        section = _clause_section(clause, f"s{index}")
        total += len(section)
        sections.append(section)
    rows = "".join(
        f"<tr><td><a href='#{_e(c['id'])}'>{_e(c['id'])}</a></td><td>{_e(c['title'])}</td>"
        f"<td class='{_status_class(c['status'])}'>{_e(c['status'])}</td><td>{_e(c['reason'])}</td></tr>"
        for c in certificate["clauses"]
    )
    timelines = sum(1 for c in certificate["clauses"] if (c.get("evidence") or {}).get("history"))
    body = (
        f"<h1>Certificate: {_e(impl['name'])} {_e(impl['version'])}</h1>"
        f"<p class='verdict {_status_class(certificate['verdict'])}'>Verdict: {_e(certificate['verdict'])}</p>"
        f"<p>{timelines} timeline{'s' if timelines != 1 else ''}, {total} characters in all"
        f" (each scenario capped at {SCENARIO_CAP}).</p>"
        f"<table class='summary'><tr><th>clause</th><th>title</th><th>status</th><th>reason</th></tr>{rows}</table>"
        f"{_legend()}{''.join(sections)}"
    )
    return _page(f"Certificate: {impl['name']}", body)


def scenario_page(title: str, history: dict, reason: str = "") -> str:
    """One scenario's timeline as a page of its own (what `replay --html` writes)."""
    reason_html = f"<p class='bad'>{_e(reason)}</p>" if reason else ""
    return _page(title, f"<h1>{_e(title)}</h1>{reason_html}{_legend()}{timeline(history, 's0')}")


def write(certificate: dict, out_dir: str) -> str:
    path = os.path.join(out_dir, "certificate.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(to_html(certificate))
    return path


def timeline(history: dict, anchor: str) -> str:
    """The lanes and cells of one scenario, then its violations linked to their cells."""
    calls, marked = history["calls"], history["marked"]
    flagged = {marked, history.get("violated")} - {None}
    head = "".join(_column_head(call, flagged, history["parting"], anchor) for call in calls)
    lanes = []
    for rank in history["ranks"]:
        cells = "".join(_cell(call, rank["rank"], flagged, anchor) for call in calls)
        lane = f"<th class='lane'>rank {rank['rank']}<br><small>{_e(rank['status'])}</small></th>"
        lanes.append(f"<tr>{lane}{cells}</tr>")
    windowed = calls and len(calls) < history["calls_total"]
    shown = f" (calls {calls[0]['index']}–{calls[-1]['index']} of {history['calls_total']})" if windowed else ""
    table = f"<div class='scroll'><table class='timeline'><tr><th class='lane'>call{_e(shown)}</th>{head}</tr>"
    table += "".join(lanes) + "</table></div>"
    violations = "".join(f"<li>{_violation_link(v, history, anchor)}</li>" for v in history["violations"])
    text = table + (f"<ul class='violations'>{violations}</ul>" if violations else "")
    if len(text) > SCENARIO_CAP:
        text = f"<p>This timeline is {len(text)} characters, over the cap of {SCENARIO_CAP}: replay the scenario.</p>"
        text += f"<ul class='violations'>{violations[: SCENARIO_CAP // 2]}</ul>"
    return text


def _clause_section(clause: dict, anchor: str) -> str:
    head = (
        f"<section id='{_e(clause['id'])}'><h2>{_e(clause['id'])} {_e(clause['title'])}:"
        f" <span class='{_status_class(clause['status'])}'>{_e(clause['status'])}</span></h2>"
    )
    evidence = clause.get("evidence") or {}
    parts = [f"<p>{_e(clause['reason'])}</p>"] if clause["reason"] else []
    if evidence.get("history"):
        parts.append(f"<p>Scenario {_e(evidence['scenario_name'])} at world size {evidence['world_size']}.</p>")
        parts.append(timeline(evidence["history"], anchor))
    elif evidence:
        parts.append(f"<pre>{_e(evidence.get('report', ''))}</pre>")
    return head + "".join(parts) + "</section>"


def _column_head(call: dict, flagged: set[int], parting: int | None, anchor: str) -> str:
    index = call["index"]
    if index not in flagged:
        return f"<th id='{anchor}-c{index}'>#{index} {_e(call['label'])}</th>"
    words = "ranks part here" if parting == index else "violation here"
    mark = f"<span class='mark'>▼ {words}</span>"
    return f"<th id='{anchor}-c{index}' class='parted'>{mark}#{index} {_e(call['label'])}</th>"


def _cell(call: dict, rank: int, flagged: set[int], anchor: str) -> str:
    cell = call["cells"][rank]
    classes = "cell parted" if call["index"] in flagged else "cell"
    ident = f"{anchor}-c{call['index']}-r{rank}"
    state = cell["state"]
    if state in STATE_WORDS:
        bad = state not in ("none", "skipped", "never_reached")
        text = f"<div class='{'bad' if bad else ''}'>{_e(STATE_WORDS[state])}</div>"
        return f"<td id='{ident}' class='{classes}'>{text}</td>"
    stage = cell.get("stage") or "no seed"
    lines = [f"<div><b>{_e(stage)}</b></div>"]
    if cell.get("local") is not None:
        rank0 = call["cells"][0].get("local")
        lines.append(f"<div>local {_verdict(cell['local'])} · rank 0 {_verdict(rank0)}</div>")
    if cell.get("returned") is not None:
        lines.append(f"<div>returned {_verdict(cell['returned'])}</div>")
    entered = cell.get("entered") or []
    for entry in entered[:ENTERED_SHOWN]:
        lines.append(f"<div class='coll'>{_e(describe(entry))}</div>")
    if not entered and any(c.get("entered") or c["state"] == "stuck_in_collective" for c in call["cells"]):
        lines.append("<div class='coll bad'>no collective</div>")
    if len(entered) > ENTERED_SHOWN:
        lines.append(f"<div class='coll'>+{len(entered) - ENTERED_SHOWN} more</div>")
    if cell.get("error"):
        where = " (in a collective)" if cell.get("in_collective") else ""
        lines.append(f"<div class='bad'>{_e(cell['error'][:120])}{where}</div>")
    colour = STAGE_COLOURS.get(stage, "#ffffff")
    return f"<td id='{ident}' class='{classes}' style='background:{colour}'>{''.join(lines)}</td>"


def _violation_link(violation: dict, history: dict, anchor: str) -> str:
    call = violation["call"]
    shown = {c["index"] for c in history["calls"]}
    if call is None or call not in shown:
        return _e(violation["text"])
    rank = RANK_IN_TEXT.search(violation["text"])
    target = f"{anchor}-c{call}" + (f"-r{rank.group(1)}" if rank and int(rank.group(1)) < len(history["ranks"]) else "")
    return f"<a href='#{target}'>{_e(violation['text'])}</a>"


def _legend() -> str:
    spans = "".join(f"<span style='background:{c}'>{_e(s)}</span>" for s, c in STAGE_COLOURS.items())
    return f"<p class='legend'>Stage after the call: {spans}</p>"


def _verdict(passed: bool | None) -> str:
    return "?" if passed is None else ("pass" if passed else "fail")


def _status_class(status: str) -> str:
    return "pass" if status in ("pass", "certified") else "fail" if status in ("fail", "not_certified") else ""


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>\n"
    )


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)
