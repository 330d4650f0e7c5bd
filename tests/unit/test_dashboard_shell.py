"""The dashboards' shell without a browser: the header's links, and the front-end extensions a
dashboard page loads (only the dashboards' own, built for the JupyterLab inside Voila's page).

tests/browser/test_dashboard_shell.py checks the same in Chromium, console included.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import jinja2
import pytest
from jupyter_core.paths import jupyter_path

import voicelab.dashboards.server as vl_server

LABEXTENSIONS = vl_server.DASHBOARD_LABEXTENSIONS
# A shared module an extension asks for, as webpack writes it in a remoteEntry: a caret range
# "^4.2.4" is [1,4,2,4] (with or without the eager flag `!1` before it).
WANTED = re.compile(r'"(@(?:jupyterlab|lumino)/[a-z0-9-]+)",(?:!1,)?\[(\d+),(\d+),(\d+),(\d+)')
# What Voila's page bundle provides: ("@jupyterlab/statedb","4.2.5", ...
PROVIDED = re.compile(r'\("(@(?:jupyterlab|lumino)/[a-z0-9-]+)","(\d+)\.(\d+)\.(\d+)"')


def header(notebook: str, base_url: str = "/") -> str:
    """The header as the template renders it on `notebook`'s page under serve's resources."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(vl_server.TEMPLATE_OVERRIDES),
                             autoescape=True)
    macro = env.get_template("shell.macro.html.j2").module.header
    resources = {"base_url": base_url, "metadata": {"name": Path(notebook).stem},
                 **vl_server.voila_config("127.0.0.1", 1).VoilaConfiguration.resources}
    return str(macro(resources))


@pytest.mark.parametrize("notebook", vl_server.PREHEATED)
def test_the_header_links_every_dashboard_at_its_address(notebook: str) -> None:
    html = header(notebook)
    links = re.findall(r'<a class="vl-shell-link" href="([^"]+)"', html)
    assert links == [vl_server.dashboard_url("/", nb) for _, nb in vl_server.SHELL_LINKS]
    assert [label for label, _ in vl_server.SHELL_LINKS] == ["Batches", "Launch", "Jobs"]
    assert re.search(r'<a class="vl-shell-brand" href="/voila/render/batches.ipynb">VoiceLab</a>',
                     html)
    assert '<div class="vl-shell-person" data-slot="person"></div>' in html  # filled on load
    # Its one script fills the person's slot: it handles no key (the board keeps every key it
    # listens to) and asks only this server.
    assert html.count("<script") == 1 and '"/session"' in html
    assert "addEventListener" not in html and "onkey" not in html
    assert "tabindex" not in html and "http" not in html


@pytest.mark.parametrize(("notebook", "current"), [
    ("batches.ipynb", "batches.ipynb"), ("launch.ipynb", "launch.ipynb"),
    ("jobs.ipynb", "jobs.ipynb"), ("rank.ipynb", None)])
def test_the_header_marks_the_page_it_is_on(notebook: str, current: str | None) -> None:
    marked = re.findall(r'data-notebook="([^"]+)" aria-current="page"', header(notebook))
    assert marked == ([current] if current else [])  # a board is no page of the header's


def test_the_header_follows_the_servers_base_url() -> None:
    html = header("jobs.ipynb", base_url="/lab-a/")
    assert 'href="/lab-a/voila/render/launch.ipynb"' in html
    assert '"/lab-a/session"' in html and '"/lab-a/logout"' in html


def test_serve_preheats_every_dashboard_of_the_header() -> None:
    assert {nb for _, nb in vl_server.SHELL_LINKS} <= set(vl_server.PREHEATED)
    pools = vl_server.voila_config("127.0.0.1", 1).VoilaKernelManager.kernel_pools_config
    assert {nb for nb, pool in pools.items() if pool["pool_size"] > 0} == set(vl_server.PREHEATED)
    assert "generate.ipynb" not in pools  # that one runs a job, never before a visit


def test_a_dashboard_page_loads_only_the_dashboards_extensions() -> None:
    from voila.configuration import VoilaConfiguration
    from voila.utils import get_page_config

    voila = VoilaConfiguration(config=vl_server.voila_config("127.0.0.1", 1))
    page = get_page_config("/", {}, logging.getLogger("test"), voila)
    loaded = {e["name"]: Path(e["load"]).name for e in page["federated_extensions"]}
    assert set(loaded) == set(vl_server.DASHBOARD_EXTENSIONS)  # no Notebook 7, no JupyterLab 4.6
    for name in ("@jupyter-widgets/jupyterlab-manager", "@voila-dashboards/widgets-manager8"):
        assert (LABEXTENSIONS / name / "static" / loaded[name]).is_file(), name  # ours


def voila_page_bundle() -> str:
    for base in jupyter_path("voila"):
        bundle = Path(base) / "templates" / "base" / "static" / "voila.js"
        if bundle.is_file():
            return bundle.read_text("utf-8")
    raise AssertionError("Voila's page bundle (templates/base/static/voila.js) is missing")


def test_the_shipped_widget_managers_ask_only_for_what_voilas_page_provides() -> None:
    """No "Unsatisfied version" warning: every JupyterLab and Lumino module the two builds in
    static/labextensions share is provided by Voila's page in a version their range accepts.
    Failing after a Voila upgrade: read static/labextensions/README.md."""
    provided = {name: tuple(map(int, v)) for name, *v in PROVIDED.findall(voila_page_bundle())}
    assert provided.get("@jupyterlab/services", (0,))[0] == 7, "Voila's page bundle changed"
    entries = sorted(LABEXTENSIONS.glob("*/*/static/remoteEntry.*.js"))
    assert len(entries) == 2
    for entry in entries:
        wanted = WANTED.findall(entry.read_text("utf-8"))
        assert len(wanted) >= 10, entry  # the pattern still reads this build
        for name, kind, *version in wanted:
            low = tuple(map(int, version))
            assert kind == "1", f"{entry.name}: {name} is not a ^range"
            have = provided.get(name)
            assert have is not None, f"{entry.parent.parent.name} wants {name}: not provided"
            assert have[0] == low[0] and have >= low, (
                f"{entry.parent.parent.name} wants {name} ^{'.'.join(version)}, Voila's page "
                f"provides {'.'.join(map(str, have))}")


def test_the_shipped_builds_carry_their_licences() -> None:
    for name in ("@jupyter-widgets/jupyterlab-manager", "@voila-dashboards/widgets-manager8"):
        assert "Redistribution and use in source and binary forms" in (
            LABEXTENSIONS / name / "LICENSE").read_text("utf-8")
