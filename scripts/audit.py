"""Dependency audit: known vulnerabilities in the Python packages (pip-audit) and the pinned
front-end packages (npm audit), less the ones accepted in `audit-accept.toml`.

    .venv/bin/python scripts/audit.py             # exit 1 on a finding, 2 when not audited
    .venv/bin/python scripts/audit.py --offline-ok  # `make test`: not audited is said, not failed

"Not audited" is its own outcome, never a pass: a vulnerability service that cannot be reached,
or one that knows none of the packages (a PyPI mirror without advisory data answers "not
found on PyPI" for each), audits nothing.

To accept a finding (no fixed release yet, or the vulnerable code is not used), add to
`audit-accept.toml`:

    [[accept]]
    id = "GHSA-xxxx-xxxx-xxxx"      # or PYSEC-…, CVE-…: any of the finding's ids
    package = "jinja2"
    reason = "why it does not reach us"
    until = 2027-03-01              # looked at again by then; an expired acceptance fails
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ACCEPT_FILE = ROOT / "audit-accept.toml"


@dataclass(frozen=True)
class Finding:
    tool: str
    package: str
    version: str
    ids: tuple[str, ...]
    fix: str

    def line(self) -> str:
        fix = f", fixed in {self.fix}" if self.fix else ""
        return f"{self.tool}: {self.package} {self.version}: {', '.join(self.ids)}{fix}"


class NotAudited(Exception):
    """The tool ran but could not check anything (no advisory data reachable)."""


@dataclass(frozen=True)
class Acceptance:
    id: str
    package: str
    reason: str
    until: dt.date


def load_acceptances(path: Path = ACCEPT_FILE) -> list[Acceptance]:
    if not path.exists():
        return []
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    accepted = []
    for entry in data.get("accept", []):
        missing = {"id", "package", "reason", "until"} - entry.keys()
        if missing:
            raise ValueError(f"{path.name}: an acceptance lacks {', '.join(sorted(missing))}")
        if not isinstance(entry["until"], dt.date):
            raise ValueError(f"{path.name}: until must be a date (2027-03-01), not a string")
        accepted.append(
            Acceptance(entry["id"], entry["package"].lower(), entry["reason"], entry["until"])
        )
    return accepted


def pip_findings(report: dict[str, Any]) -> list[Finding]:
    """Findings from `pip-audit -f json`; NotAudited when no package could be looked up."""
    deps = report.get("dependencies", [])
    looked_up = [d for d in deps if "skip_reason" not in d]
    if not looked_up:
        raise NotAudited(
            f"pip-audit looked up none of {len(deps)} packages"
            + (f" ({deps[0]['skip_reason']})" if deps else "")
        )
    return [
        Finding(
            "pip-audit",
            d["name"].lower(),
            d.get("version", ""),
            (v["id"], *v.get("aliases", [])),
            ", ".join(v.get("fix_versions", [])),
        )
        for d in looked_up
        for v in d.get("vulns", [])
    ]


def npm_findings(report: dict[str, Any]) -> list[Finding]:
    """Findings from `npm audit --json` (lockfile v2+ report); NotAudited on an error report."""
    if "error" in report or "vulnerabilities" not in report:
        message = report.get("message") or report.get("error", {}).get("summary") or "no report"
        raise NotAudited(f"npm audit: {message}")
    findings = []
    for name, vuln in report["vulnerabilities"].items():
        # `via` lists advisories (dicts) or, for a package vulnerable through another, names.
        for via in vuln.get("via", []):
            if isinstance(via, dict):
                ghsa = str(via.get("url", "")).rsplit("/", 1)[-1]
                ids = tuple(i for i in (ghsa, str(via.get("source", ""))) if i)
                fix = vuln.get("fixAvailable")
                fixed = fix.get("version", "") if isinstance(fix, dict) else ""
                findings.append(Finding("npm", name.lower(), vuln.get("range", ""), ids, fixed))
    return findings


def unaccepted(
    findings: list[Finding], accepted: list[Acceptance], today: dt.date
) -> tuple[list[Finding], list[str]]:
    """The findings no current acceptance covers, and notes on expired acceptances."""
    notes = [
        f"acceptance of {a.id} ({a.package}) expired on {a.until}: look at it again"
        for a in accepted
        if a.until < today
    ]
    current = [a for a in accepted if a.until >= today]
    left = [
        f for f in findings if not any(a.package == f.package and a.id in f.ids for a in current)
    ]
    return left, notes


def _run_json(command: list[str]) -> dict[str, Any]:
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)  # noqa: S603
    try:
        parsed: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise NotAudited(f"{command[0]}: {tail}") from None
    return parsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offline-ok", action="store_true", help="not audited is not a failure")
    args = parser.parse_args(argv)
    python_bin = Path(sys.executable).parent
    checks = {
        "Python packages": lambda: pip_findings(
            _run_json([str(python_bin / "pip-audit"), "-l", "-f", "json", "--progress-spinner=off"])
        ),
        "front-end packages": lambda: npm_findings(_run_json(["npm", "audit", "--json"])),
    }
    findings: list[Finding] = []
    not_audited = []
    for what, check in checks.items():
        try:
            found = check()
        except NotAudited as why:
            not_audited.append(f"{what} NOT AUDITED: {why}")
            continue
        print(f"{what}: audited, {len(found)} known vulnerabilities before acceptances")
        findings += found
    left, notes = unaccepted(findings, load_acceptances(), dt.datetime.now(dt.UTC).date())
    for line in [*not_audited, *notes, *(f.line() for f in left)]:
        print(line)
    if left or notes:
        return 1
    if not_audited and not args.offline_ok:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
