"""The dependency audit's verdicts (`scripts/audit.py`), from reports in the shapes pip-audit and
npm audit print: a finding fails unless a current acceptance names it, an expired acceptance
fails, and a tool that could look nothing up is "not audited", never a pass."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "audit", Path(__file__).resolve().parent.parent / "scripts" / "audit.py"
)
assert _spec
assert _spec.loader
audit = importlib.util.module_from_spec(_spec)
sys.modules["audit"] = audit
_spec.loader.exec_module(audit)

TODAY = dt.date(2026, 12, 1)
PIP_REPORT = {
    "dependencies": [
        {"name": "walkaround", "skip_reason": "Dependency not found on PyPI"},
        {"name": "Jinja2", "version": "3.1.2", "vulns": [
            {"id": "PYSEC-2024-1", "aliases": ["GHSA-h5c8-rqwp-cp95", "CVE-2024-22195"],
             "fix_versions": ["3.1.3"]},
        ]},
        {"name": "litestar", "version": "2.15.0", "vulns": []},
    ]
}  # fmt: skip
NPM_REPORT = {
    "auditReportVersion": 2,
    "vulnerabilities": {
        "htmx.org": {
            "name": "htmx.org", "range": "<2.0.12",
            "via": [{"source": 1100, "url": "https://github.com/advisories/GHSA-aaaa-bbbb-cccc"}],
            "fixAvailable": {"name": "htmx.org", "version": "2.0.12"},
        },
        "htmx-ext-sse": {"name": "htmx-ext-sse", "range": "*", "via": ["htmx.org"]},
    },
}  # fmt: skip


def accept(id_: str, package: str, until: dt.date = TODAY) -> object:
    return audit.Acceptance(id_, package, "not reached", until)


def test_a_python_finding_fails_until_an_acceptance_names_it_by_any_of_its_ids() -> None:
    findings = audit.pip_findings(PIP_REPORT)
    assert [f.line() for f in findings] == [
        "pip-audit: jinja2 3.1.2: PYSEC-2024-1, GHSA-h5c8-rqwp-cp95, CVE-2024-22195, fixed in 3.1.3"
    ]
    assert audit.unaccepted(findings, [], TODAY)[0] == findings
    left, notes = audit.unaccepted(findings, [accept("CVE-2024-22195", "jinja2")], TODAY)
    assert (left, notes) == ([], [])
    # The same id on another package accepts nothing.
    assert audit.unaccepted(findings, [accept("CVE-2024-22195", "markupsafe")], TODAY)[0]


def test_an_expired_acceptance_fails_the_audit_with_a_note() -> None:
    findings = audit.pip_findings(PIP_REPORT)
    expired = accept("PYSEC-2024-1", "jinja2", until=TODAY - dt.timedelta(days=1))
    left, notes = audit.unaccepted(findings, [expired], TODAY)
    assert left == findings
    assert notes == ["acceptance of PYSEC-2024-1 (jinja2) expired on 2026-11-30: look at it again"]


def test_a_front_end_advisory_is_found_on_the_package_it_names() -> None:
    findings = audit.npm_findings(NPM_REPORT)
    assert [(f.package, f.ids, f.fix) for f in findings] == [
        ("htmx.org", ("GHSA-aaaa-bbbb-cccc", "1100"), "2.0.12")
    ]
    assert audit.unaccepted(findings, [accept("GHSA-aaaa-bbbb-cccc", "htmx.org")], TODAY)[0] == []


def test_no_advisory_data_is_not_audited_never_a_pass() -> None:
    # A PyPI mirror without advisory data: every package "not found on PyPI".
    mirror = {"dependencies": [{"name": "litestar", "skip_reason": "Dependency not found on PyPI"}]}
    with pytest.raises(audit.NotAudited, match="looked up none of 1 packages"):
        audit.pip_findings(mirror)
    with pytest.raises(audit.NotAudited, match="405 Method Not Allowed"):
        audit.npm_findings({"message": "405 Method Not Allowed - POST …", "error": {}})


def test_the_acceptance_file_is_checked(tmp_path: Path) -> None:
    good = tmp_path / "accept.toml"
    good.write_text(
        '[[accept]]\nid = "GHSA-1"\npackage = "Jinja2"\nreason = "r"\nuntil = 2027-03-01\n'
    )
    assert audit.load_acceptances(good) == [
        audit.Acceptance("GHSA-1", "jinja2", "r", dt.date(2027, 3, 1))
    ]
    bad = tmp_path / "bad.toml"
    bad.write_text('[[accept]]\nid = "GHSA-1"\npackage = "x"\nuntil = "2027-03-01"\n')
    with pytest.raises(ValueError, match="lacks reason"):
        audit.load_acceptances(bad)
    # The repository's own file parses (and accepts nothing today).
    assert audit.load_acceptances() == []


def test_the_exit_code_says_finding_not_audited_or_clean(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = {"npm": {"message": "405 Method Not Allowed"}}
    monkeypatch.setattr(audit, "_run_json", lambda cmd: reports.get(cmd[0], PIP_REPORT))
    assert audit.main([]) == 1  # jinja2's finding
    assert "jinja2 3.1.2" in capsys.readouterr().out
    reports["npm"] = {"auditReportVersion": 2, "vulnerabilities": {}}
    clean = {"dependencies": [{"name": "litestar", "version": "2.15.0", "vulns": []}]}
    monkeypatch.setattr(audit, "_run_json", lambda cmd: reports.get(cmd[0], clean))
    assert audit.main([]) == 0
    reports["npm"] = {"message": "405 Method Not Allowed"}
    assert audit.main([]) == 2
    assert audit.main(["--offline-ok"]) == 0
    assert "front-end packages NOT AUDITED: npm audit: 405" in capsys.readouterr().out
