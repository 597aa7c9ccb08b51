"""Write examples/people-2024.csv: made-up person counts for the example county's 320 branches.

Counts are derived from a hash of the branch id, so the file is the same on every run:
villages (农村) get 67至79岁农村老人数(人) between 60 and 259 and 3–8 grid workers; communities get no
elder count (the 召陵区-style elder rule is for rural elders) and 6–15 grid workers.
Run from the repository root: python examples/make_people.py
"""

import csv
import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent
with (ROOT / "county-2024-Q4.csv").open(encoding="utf-8-sig", newline="") as handle:
    rows = list(csv.DictReader(handle))
with (ROOT / "people-2024.csv").open("w", encoding="utf-8", newline="") as handle:
    out = csv.writer(handle, lineterminator="\n")
    out.writerow(["支部编码", "支部名称", "67至79岁农村老人数(人)", "网格员数(人)"])
    for row in sorted(rows, key=lambda r: r["支部编码"]):
        h = int(hashlib.sha256(row["支部编码"].encode()).hexdigest(), 16)
        rural = row["类型"] == "农村"
        elders = str(60 + h % 200) if rural else ""
        grid = str((3 + (h >> 8) % 6) if rural else (6 + (h >> 8) % 10))
        out.writerow([row["支部编码"], row["支部名称"], elders, grid])
