# SPDX-License-Identifier: MIT
"""Prints one "TEST-ID OUTCOME" line per test case of a JUnit XML file written
by `python3 -m test --junit-xml`, sorted; OUTCOME is pass, fail, error or skip.
check-system compares these between a run with and a run without libkt."""
import sys
import xml.etree.ElementTree as ET


def outcome(case):
    for tag in ("error", "failure", "skipped"):
        if case.find(tag) is not None:
            return {"error": "error", "failure": "fail", "skipped": "skip"}[tag]
    return "pass"


lines = set()
for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    name = case.get("name", "?")
    cls = case.get("classname", "")
    lines.add(f"{cls}.{name} {outcome(case)}" if cls else f"{name} {outcome(case)}")
print("\n".join(sorted(lines)))
