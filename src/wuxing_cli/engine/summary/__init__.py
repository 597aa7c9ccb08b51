"""Summaries of scored result frames: the aggregations the bulletin shows, as frozen dataclasses.

Every function here takes one or two scored frames (and the criteria they were scored with) and
returns plain numbers, strings and tuples of rows; none of them formats text. The modules:

- :mod:`.common`: rounding as the reports show figures, the star catalogue of the criteria used,
  grouping helpers;
- :mod:`.levels`: counts per level, per-star award rates, the group league table, plan progress;
- :mod:`.movement`: 晋星/降星 and stars swapped between two periods;
- :mod:`.events`: veto events and caps that fired, branches within reach of a star;
- :mod:`.indicators`: indicators that lost the most points, the per-group problem list;
- :mod:`.quality`: missing values per field.

Several of these run on the bulletin's unsorted 1,000,000-row frames; the comments say which
lazy queries keep them cheap.
"""
