"""Crafted fixtures for the bulletin tests: a small five-star criteria file and two periods of one county.

The data are built so that every bulletin section has something to say:

- 李寨村 gains 支部过硬星 and 产业兴旺星 (晋星);
- 王庄村 loses 平安法治星 to a veto (发生刑事案件) and with it the capstone 支部过硬星 (降星);
- 张湾村 leaves 刑事案件数 blank, so the veto fires for missing input (a data-quality note);
- 刘楼村 is capped at 二星 (村干部涉黑涉恶);
- 陈岗村 is 1.71 points short of 生态宜居星 (a near miss); 赵集村 has no 卫生户厕普及率 (missing);
- 孙庄村 is new this period and 周营村 was not reported (removed);
- line 9 of the current file holds an unreadable number (rejected with --skip-invalid).
"""

from __future__ import annotations

from pathlib import Path

CRITERIA_YAML = """\
schema_version: 1
id: mini-rural
name: 示范县农村“五星”支部创建评分细则
branch_type: 农村
version: "2024"
fields:
  income: {header: 村集体经济收入(万元), type: number, min: 0}
  toilet_rate: {header: 卫生户厕普及率(%), type: percent}
  has_grid: {header: 是否建立网格化管理, type: boolean}
  red_white: {header: 是否建立红白理事会, type: boolean}
  review: {header: 书记述职评议等次, type: category, values: [好, 较好, 一般, 差]}
  cases: {header: 刑事案件数, type: integer, min: 0}
  gang: {header: 村干部涉黑涉恶案件数, type: integer, min: 0, default: 0}
stars:
  - id: zbgy
    name: 支部过硬星
    pass_mark: 8
    requires: [cyxw, stjy, pafz, wmxf]
    owner: 组织部
    indicators:
      - {id: grade, name: 书记述职评议, field: review, points: 10,
         rule: {type: category, map: {好: 10, 较好: 8, 一般: 4, 差: 0}}}
  - id: cyxw
    name: 产业兴旺星
    pass_mark: 15
    owner: 农业农村局
    indicators:
      - {id: income, name: 村集体经济收入, field: income, points: 20,
         rule: {type: bands, bands: [{min: 50, points: 20}, {min: 20, points: 15}, {min: 10, points: 10}]}}
  - id: stjy
    name: 生态宜居星
    pass_mark: 16
    owner: 住建局
    indicators:
      - {id: toilets, name: 卫生户厕普及率, field: toilet_rate, points: 20,
         rule: {type: linear, zero_at: 60, full_at: 95}}
  - id: pafz
    name: 平安法治星
    pass_mark: 10
    owner: 政法委
    indicators:
      - {id: grid, name: 网格化管理, field: has_grid, points: 10, rule: {type: boolean}, required: true}
    vetoes:
      - {id: crime, name: 发生刑事案件, when: "cases > 0"}
  - id: wmxf
    name: 文明幸福星
    pass_mark: 10
    owner: 宣传部
    indicators:
      - {id: redwhite, name: 红白理事会, field: red_white, points: 10, rule: {type: boolean}}
caps:
  - {id: gang, name: 村干部涉黑涉恶, when: "gang > 0", max_stars: 2}
"""

HEADER = ("支部编码,支部名称,乡镇,村集体经济收入(万元),卫生户厕普及率(%),是否建立网格化管理,是否建立红白理事会,"
          "书记述职评议等次,刑事案件数,村干部涉黑涉恶案件数")

PREVIOUS_ROWS = [
    "B001,王庄村,城关镇,60,96,是,是,好,0,0",
    "B002,李寨村,城关镇,15,90,是,是,较好,0,0",
    "B003,张湾村,河口乡,25,70,是,否,一般,0,0",
    "B004,刘楼村,河口乡,55,95,是,是,好,0,0",
    "B005,陈岗村,石桥镇,30,85,否,是,较好,0,0",
    "B006,赵集村,石桥镇,8,62,是,否,差,0,0",
    "B008,周营村,石桥镇,12,75,是,是,一般,0,0",
]

CURRENT_ROWS = [
    "B001,王庄村,城关镇,62,97,是,是,好,1,0",
    "B002,李寨村,城关镇,22,92,是,是,较好,0,0",
    "B003,张湾村,河口乡,26,71,是,否,一般,,0",
    "B004,刘楼村,河口乡,58,96,是,是,好,0,1",
    "B005,陈岗村,石桥镇,31,85,否,是,较好,0,0",
    "B006,赵集村,石桥镇,9,,是,否,差,0,0",
    "B007,孙庄村,城关镇,20,88,是,是,好,0,0",
    "B009,吴桥村,石桥镇,十万,90,是,是,好,0,0",
]

TARGETS_CSV = """\
乡镇,五星,四星,三星
城关镇,2,1,0
河口乡,1,0,1
石桥镇,0,0,1
"""

TARGETS_YAML = """\
year: 2024
groups:
  城关镇: {五星: 2, 四星: 1}
  河口乡: {五星: 1, 三星: 1}
  石桥镇: {三星: 1}
"""


def csv_text(rows: list[str], header: str = HEADER) -> str:
    return header + "\n" + "\n".join(rows) + "\n"


def write_fixtures(folder: Path) -> dict[str, Path]:
    """Write the criteria, both periods, a combined two-period file and the plans; return their paths."""
    files = {
        "criteria": folder / "mini.yaml",
        "previous": folder / "2024Q1.csv",
        "current": folder / "2024Q2.csv",
        "both": folder / "both.csv",
        "targets_csv": folder / "targets.csv",
        "targets_yaml": folder / "targets.yaml",
    }
    files["criteria"].write_text(CRITERIA_YAML, encoding="utf-8")
    files["previous"].write_text(csv_text(PREVIOUS_ROWS), encoding="utf-8")
    files["current"].write_text(csv_text(CURRENT_ROWS), encoding="utf-8")
    both = [f"{row},2024-Q1" for row in PREVIOUS_ROWS] + [f"{row},2024-Q2" for row in CURRENT_ROWS[:-1]]
    files["both"].write_text(csv_text(both, HEADER + ",期间"), encoding="utf-8")
    files["targets_csv"].write_text(TARGETS_CSV, encoding="utf-8")
    files["targets_yaml"].write_text(TARGETS_YAML, encoding="utf-8")
    return files
