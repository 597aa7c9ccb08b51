"""Generate ``benchmarks/criteria-wide.yaml``: 5 stars × 25 indicators over 125 input fields.

Every rule kind (threshold min / max / both, linear up and down, bands by min and by max, boolean with
``expect`` true and false, category), derived fields, ``required`` indicators, vetoes, caps and a
capstone star (``requires``). Run from the repository root::

    python benchmarks/make_wide_criteria.py            # writes benchmarks/criteria-wide.yaml
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

STARS = [
    ("s1", "支部过硬星", "组织部"),
    ("s2", "产业兴旺星", "农业农村局"),
    ("s3", "生态宜居星", "农业农村局"),
    ("s4", "平安法治星", "政法委"),
    ("s5", "文明幸福星", "宣传部"),
]

# (key, label, field spec, rule, required) — one star's 24 directly scored inputs; the 25th indicator
# reads a derived ratio (see below). Every indicator is worth 4 points (25 × 4 = 100).
P = 4
TEMPLATES: list[tuple[str, str, dict[str, Any], dict[str, Any], bool]] = [
    ("rate", "落实率(%)", {"type": "percent"}, {"type": "linear", "zero_at": 80, "full_at": 100}, False),
    ("filed", "备案是否完成", {"type": "boolean"}, {"type": "boolean"}, True),
    ("young", "发展青年党员数(名)", {"type": "integer", "min": 0}, {"type": "threshold", "min": 1}, False),
    ("area", "阵地面积(㎡)", {"type": "number", "min": 0, "max": 10000},
     {"type": "bands", "bands": [{"min": 200, "points": P}, {"min": 120, "points": 2}]}, False),
    ("items", "达标项数(项)", {"type": "integer", "min": 0, "max": 8}, {"type": "linear", "zero_at": 4, "full_at": 8}, False),
    ("grade", "评议等次", {"type": "category", "values": ["好", "较好", "一般", "差"]},
     {"type": "category", "map": {"好": P, "较好": 3, "一般": 1, "差": 0}}, False),
    ("satis", "满意度(%)", {"type": "percent"},
     {"type": "bands", "bands": [{"min": 95, "points": P}, {"min": 90, "points": 3}, {"min": 85, "points": 2}]}, False),
    ("cases", "案件数(起)", {"type": "integer", "min": 0, "default": 0}, {"type": "threshold", "max": 0}, False),
    ("petit", "上访数(起)", {"type": "integer", "min": 0, "default": 0},
     {"type": "bands", "bands": [{"max": 0, "points": P}, {"max": 1, "points": 1.5}]}, False),
    ("relapse", "返贫率(%)", {"type": "percent"}, {"type": "linear", "zero_at": 20, "full_at": 5}, False),
    ("violation", "是否存在违规问题", {"type": "boolean"}, {"type": "boolean", "expect": False}, False),
    ("density", "种植密度(株/亩)", {"type": "number", "min": 0, "max": 200},
     {"type": "threshold", "min": 20, "max": 60}, False),
    ("water", "入户率(%)", {"type": "percent"}, {"type": "threshold", "min": 90}, False),
    ("ratio", "收入比(倍)", {"type": "number", "min": 0, "max": 5}, {"type": "linear", "zero_at": 0.95, "full_at": 1.1}, False),
    ("coops", "合作社数(个)", {"type": "integer", "min": 0},
     {"type": "bands", "bands": [{"min": 5, "points": P}, {"min": 2, "points": 2.5}, {"min": 1, "points": 1}]}, False),
    ("sewage", "治理方式", {"type": "category", "values": ["集中处理", "分散处理", "无"]},
     {"type": "category", "map": {"集中处理": P, "分散处理": 2.5, "无": 0}}, False),
    ("share", "经营占比(%)", {"type": "percent"}, {"type": "linear", "zero_at": 30, "full_at": 70}, False),
    ("jobs", "带动就业(人)", {"type": "integer", "min": 0},
     {"type": "bands", "bands": [{"min": 80, "points": P}, {"min": 30, "points": 2.5}, {"min": 10, "points": 1}]}, False),
    ("income", "集体收入(万元)", {"type": "number", "min": 0},
     {"type": "bands", "bands": [{"min": 50, "points": P}, {"min": 20, "points": 3}, {"min": 10, "points": 2},
                                 {"min": 5, "points": 1}]}, False),
    ("station", "站点是否运行", {"type": "boolean"}, {"type": "boolean"}, True),
    ("energy", "清洁能源率(%)", {"type": "percent"}, {"type": "threshold", "min": 50}, False),
    ("orgs", "组织建立数(项)", {"type": "integer", "min": 0, "max": 6}, {"type": "linear", "zero_at": 3, "full_at": 6}, False),
    ("score", "评比得分(分)", {"type": "number", "min": 0, "max": 100}, {"type": "linear", "zero_at": 60, "full_at": 90}, False),
    ("homes", "总户数(户)", {"type": "integer", "min": 1},
     {"type": "bands", "bands": [{"min": 300, "points": P}, {"min": 100, "points": 2}]}, False),
]
assert len(TEMPLATES) == 24


def build() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    stars: list[dict[str, Any]] = []
    for k, (sid, sname, owner) in enumerate(STARS, start=1):
        indicators: list[dict[str, Any]] = []
        for j, (key, label, spec, rule, required) in enumerate(TEMPLATES, start=1):
            fid = f"{sid}_{key}"
            field = {"header": f"{sname[:4]}{j:02d}{label}", **spec}
            if j % 6 == 1:
                field["aliases"] = [f"{sid.upper()}-{j:02d}"]
            fields[fid] = field
            ind: dict[str, Any] = {"id": f"{sid}i{j:02d}", "name": f"{sname[:4]}{label.split('(')[0]}", "field": fid,
                                   "points": P, "rule": rule}
            if required:
                ind["required"] = True
            indicators.append(ind)
        # 25th: a derived ratio over a new input and the scored household count
        fields[f"{sid}_done"] = {"header": f"{sname[:4]}25已完成户数(户)", "type": "integer", "min": 0}
        fields[f"{sid}_done_rate"] = {"name": f"{sname[:4]}完成率", "type": "percent",
                                      "expr": f"{sid}_done / {sid}_homes * 100"}
        indicators.append({"id": f"{sid}i25", "name": f"{sname[:4]}完成率", "field": f"{sid}_done_rate",
                           "points": P, "rule": {"type": "linear", "zero_at": 70, "full_at": 95}})
        star: dict[str, Any] = {"id": sid, "name": sname, "pass_mark": 80 if k != 3 else 75,
                                "max_points": 100, "owner": owner}
        if k == 1:
            star["requires"] = [s for s, _, _ in STARS[1:]]
        star["indicators"] = indicators
        star["vetoes"] = [
            {"id": f"{sid}_major_cases", "name": f"{sname}重大案件", "when": f"{sid}_cases > 1"},
            {"id": f"{sid}_mass_petitions", "name": f"{sname}集体上访", "when": f"{sid}_petit >= 3"},
        ]
        stars.append(star)
    # one more derived field (not scored directly), read by a cap
    fields["risk_total"] = {"name": "风险事项合计", "type": "number", "expr": "s4_cases + s4_petit"}
    return {
        "schema_version": 1,
        "id": "bench-wide",
        "name": "基准测试用宽表评分标准（5星×25指标）",
        "branch_type": "农村",
        "branch_type_aliases": ["村"],
        "version": "bench-1",
        "description": "性能基准：125个输入字段、各类计分规则、派生字段、否决与封顶。非真实标准。",
        "fields": fields,
        "stars": stars,
        "caps": [
            {"id": "cadre_cases", "name": "干部涉案", "when": "s1_cases > 2", "max_stars": 2},
            {"id": "risk", "name": "风险事项过多", "when": "risk_total > 6", "max_stars": 3},
        ],
    }


class _NoAliasDumper(yaml.SafeDumper):
    """Writes repeated values out in full (no &anchors / *aliases)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


HEADER = """\
# yaml-language-server: $schema=../schema/criteria.schema.json
# GENERATED by benchmarks/make_wide_criteria.py — do not edit by hand.
# A synthetic, wide criteria file for benchmarks (not a real standard): 5 stars × 25 indicators,
# 125 input fields, every rule kind, derived fields, vetoes, caps and a capstone star.
"""


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).with_name("criteria-wide.yaml")
    body = yaml.dump(build(), Dumper=_NoAliasDumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=None, width=120)
    out.write_text(HEADER + body, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
