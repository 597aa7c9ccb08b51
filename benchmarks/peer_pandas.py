"""The peer for the benchmark: the same scoring written the way an analyst would write it in pandas.

Read the criteria YAML, read the CSV as text, clean each column with a small Python parser, then
score every indicator with a row-wise Python rule function (``Series.map`` over its column), evaluate
derived fields, vetoes and caps row by row with ``DataFrame.apply(axis=1)``, add up the stars with
pandas' vectorised column arithmetic, rank with ``sort_values``/``rank`` and write the same CSV
columns as ``wuxing score -f csv``.

It is written honestly, not crippled: every rule touches only the column it needs, stars, ranks and
totals use vectorised pandas, and the row-wise ``apply`` is limited to the multi-field expressions
(derived fields, vetoes, caps) and the ``missing`` list, which is how such a script is usually
written. It does no input validation (bounds, allowed values, duplicate ids): that is work wuxing
does and the peer skips.

    python benchmarks/peer_pandas.py CRITERIA.yaml DATA.csv OUT.csv
"""

from __future__ import annotations

import sys
import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd
import yaml

RESERVED = {"支部编码": "branch_id", "支部名称": "branch_name", "县区": "county", "乡镇": "township",
            "类型": "branch_type", "期间": "period"}
TRUE = {"是", "有", "已完成", "完成", "达标", "√", "✓", "✔", "yes", "y", "true", "1", "1.0"}
FALSE = {"否", "无", "未完成", "不达标", "×", "✗", "✘", "no", "n", "false", "0", "0.0"}
LEVELS = {0: "无星", 1: "一星", 2: "二星", 3: "三星", 4: "四星", 5: "五星"}


CENT = Decimal("0.01")


def round2(x: float) -> float:
    """四舍五入 to 2 decimals, the usual way: the number as printed, half away from zero."""
    return float(Decimal(repr(x)).quantize(CENT, ROUND_HALF_UP))


def clean(cell: Any) -> str | None:
    if not isinstance(cell, str):
        return None
    text = unicodedata.normalize("NFKC", cell).strip()
    return text or None


def to_number(cell: Any) -> float | None:
    text = clean(cell)
    if text is None:
        return None
    text = text.rstrip("%").replace(",", "")
    try:
        return float(text)
    except ValueError:
        return None


def to_bool(cell: Any) -> bool | None:
    text = clean(cell)
    if text is None:
        return None
    text = text.lower()
    return True if text in TRUE else False if text in FALSE else None


def parse_column(series: pd.Series, spec: dict[str, Any]) -> pd.Series:
    kind = spec.get("type")
    if kind in ("number", "percent", "integer"):
        return series.map(to_number)
    if kind == "boolean":
        return series.map(to_bool)
    return series.map(clean)


def rule_function(ind: dict[str, Any]):
    rule, full = ind["rule"], float(ind["points"])
    kind = rule["type"]
    if kind == "threshold":
        lo, hi = rule.get("min"), rule.get("max")

        def threshold(v: Any) -> float:
            if v is None or v != v:
                return 0.0
            ok = (lo is None or v >= lo) and (hi is None or v <= hi)
            return full if ok else 0.0

        return threshold
    if kind == "linear":
        a, b = float(rule["zero_at"]), float(rule["full_at"])

        def linear(v: Any) -> float:
            if v is None or v != v:
                return 0.0
            return round2(min(max((v - a) / (b - a), 0.0), 1.0) * full)

        return linear
    if kind == "bands":
        bands = rule["bands"]
        if "min" in bands[0]:
            ordered = sorted(((bd["min"], bd["points"]) for bd in bands), reverse=True)

            def bands_min(v: Any) -> float:
                if v is None or v != v:
                    return 0.0
                for bound, pts in ordered:
                    if v >= bound:
                        return min(float(pts), full)
                return 0.0

            return bands_min
        ordered = sorted((bd["max"], bd["points"]) for bd in bands)

        def bands_max(v: Any) -> float:
            if v is None or v != v:
                return 0.0
            for bound, pts in ordered:
                if v <= bound:
                    return min(float(pts), full)
            return 0.0

        return bands_max
    if kind == "boolean":
        expect = rule.get("expect", True)
        return lambda v: full if v is not None and v == expect else 0.0
    if kind == "category":
        table = {str(k): min(float(p), full) for k, p in rule["map"].items()}
        return lambda v: table.get(v, 0.0) if isinstance(v, str) else 0.0
    raise ValueError(f"unknown rule {kind}")


def expression(text: str):
    """The criteria's expression language is Python-compatible: compile it once, eval per row."""
    code = compile(text, "<expr>", "eval")

    def run(row: pd.Series) -> Any:
        env = {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        try:
            return eval(code, {"__builtins__": {}, "min": min, "max": max, "abs": abs}, env)
        except (TypeError, ZeroDivisionError):
            return None

    return run


def names_in(text: str, fields: dict[str, Any]) -> list[str]:
    return [n for n in compile(text, "<expr>", "eval").co_names if n in fields]


def main(criteria_path: str, data_path: str, out_path: str) -> None:
    with open(criteria_path, encoding="utf-8") as handle:
        crit = yaml.safe_load(handle)
    fields: dict[str, dict[str, Any]] = crit["fields"]
    raw = pd.read_csv(data_path, dtype=str, keep_default_na=False, na_values=[""])
    reserved = raw.rename(columns=RESERVED)[list(RESERVED.values())]
    parsed: dict[str, pd.Series] = {}
    for fid, spec in fields.items():
        if "expr" in spec:
            continue
        header = spec.get("header", fid)
        column = raw[header] if header in raw.columns else pd.Series([None] * len(raw), dtype=object)
        values = parse_column(column, spec)
        if "default" in spec:
            values = values.where(values.notna(), spec["default"])
        parsed[fid] = values.astype(object).where(values.notna(), None)
    df = pd.concat([reserved, pd.DataFrame(parsed)], axis=1)
    derived = {}
    for fid, spec in fields.items():  # derived fields (the wide criteria's never read each other)
        if "expr" in spec:
            derived[fid] = df[names_in(spec["expr"], fields)].apply(expression(spec["expr"]), axis=1)
    df = pd.concat([df, pd.DataFrame(derived)], axis=1)

    used: list[str] = []
    scored: dict[str, pd.Series] = {}
    for star in crit["stars"]:
        for ind in star["indicators"]:
            used.append(ind["field"])
            scored[f"pts:{star['id']}:{ind['id']}"] = df[ind["field"]].map(rule_function(ind))
        for veto in star.get("vetoes", []):
            needed = names_in(veto["when"], fields)
            used += needed
            fired = df[needed].apply(expression(veto["when"]), axis=1)
            scored[f"veto:{star['id']}:{veto['id']}"] = fired.map(lambda v: True if v is None else bool(v))
    for cap in crit.get("caps", []):
        needed = names_in(cap["when"], fields)
        used += needed
        fired = df[needed].apply(expression(cap["when"]), axis=1)
        scored[f"cap:{cap['id']}"] = fired.map(lambda v: True if v is None else bool(v))
    df = pd.concat([df, pd.DataFrame(scored)], axis=1)
    for fid, spec in fields.items():
        if "expr" in spec and fid in used:
            used += names_in(spec["expr"], fields)
    used_order = [f for f in fields if f in set(used)]

    stars = crit["stars"]
    for star in stars:
        sid = star["id"]
        pts = [f"pts:{sid}:{i['id']}" for i in star["indicators"]]
        df[f"{sid}_points"] = df[pts].sum(axis=1).map(round2)
        vetoes = [f"veto:{sid}:{v['id']}" for v in star.get("vetoes", [])]
        vetoed = df[vetoes].any(axis=1) if vetoes else False
        required = [i for i in star["indicators"] if i.get("required")]
        req_ok = pd.Series(True, index=df.index)
        for ind in required:
            req_ok &= df[f"pts:{sid}:{ind['id']}"] >= float(ind["points"])
        df[f"{sid}_earned"] = ~vetoed & (df[f"{sid}_points"] >= star["pass_mark"]) & req_ok
    awarded: dict[str, pd.Series] = {}
    pending = list(stars)
    while pending:
        for star in list(pending):
            if all(r in awarded for r in star.get("requires", [])):
                ok = df[f"{star['id']}_earned"].copy()
                for r in star.get("requires", []):
                    ok &= awarded[r]
                awarded[star["id"]] = ok
                pending.remove(star)
    held = sum(awarded[s["id"]].astype(int) for s in stars)
    limit = pd.Series(len(stars), index=df.index)
    for cap in crit.get("caps", []):
        limit = limit.where(~df[f"cap:{cap['id']}"], limit.clip(upper=cap["max_stars"]))
    df["stars"] = pd.concat([held, limit], axis=1).min(axis=1)
    levels = {int(k): v for k, v in (crit.get("levels") or LEVELS).items()}
    df["level"] = df["stars"].map(levels)
    df["total_points"] = df[[f"{s['id']}_points" for s in stars]].sum(axis=1).map(round2)
    veto_cols = [(f"veto:{s['id']}:{v['id']}", v["id"]) for s in stars for v in s.get("vetoes", [])]
    veto_cols = {f"veto:{s['id']}:{v['id']}": v["id"] for s in stars for v in s.get("vetoes", [])}
    df["vetoes"] = df[list(veto_cols)].rename(columns=veto_cols).apply(
        lambda row: ";".join(row.index[row.to_numpy(dtype=bool)]), axis=1)
    df["missing"] = df[used_order].isna().apply(lambda row: ";".join(row.index[row.to_numpy()]), axis=1)

    key = df["stars"] * 1_000_000 + df["total_points"]
    df["rank"] = key.rank(method="min", ascending=False).astype(int)
    df = df.sort_values(["rank", "branch_id"])
    out = ["rank", "branch_id", "branch_name", "county", "township", "branch_type", "period", "stars",
           "level", "total_points"]
    for star in stars:
        out += [f"{star['id']}_points", f"{star['id']}_earned"]
    out += ["vetoes", "missing"]
    for star in stars:
        df[f"{star['id']}_earned"] = df[f"{star['id']}_earned"].map({True: "true", False: "false"})
    df[out].to_csv(out_path, index=False)


if __name__ == "__main__":
    main(*sys.argv[1:4])
