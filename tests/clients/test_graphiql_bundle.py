"""GraphiQL's committed bundle (app/static/graphiql, shipped in the wheel) matches its
sources in web/graphiql: its stamp is their fingerprint, and a rebuild gives the same bytes."""

import hashlib
import subprocess
from pathlib import Path

from app import graphiql
from tests.clients.conftest import ROOT

WEB = ROOT / "web" / "graphiql"
STAMP = ".fidus-build"
REBUILD = "run scripts/node-setup graphiql and commit app/static/graphiql"


def sources_fingerprint(web: Path = WEB) -> str:
    """What scripts/node-setup writes to the stamp: the sha256 of the "sha256  path" lines
    of the lockfile, build.mjs and src/ (paths relative to web/graphiql, in byte order)."""
    files = [web / "package-lock.json", web / "build.mjs"]
    files += [path for path in (web / "src").rglob("*") if path.is_file()]
    names = sorted(path.relative_to(web).as_posix() for path in files)
    lines = "".join(
        f"{hashlib.sha256((web / name).read_bytes()).hexdigest()}  {name}\n" for name in names
    )
    return hashlib.sha256(lines.encode()).hexdigest()


def bundle(directory: Path) -> dict[str, str]:
    """The bundle's files (not the stamp) by name, as sha256 digests."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in directory.iterdir()
        if path.name != STAMP
    }


def test_the_committed_bundle_was_built_from_these_sources():
    stamp = (graphiql.ASSETS_DIR / STAMP).read_text().strip()
    assert stamp == sources_fingerprint(), (
        f"web/graphiql changed since its bundle was built: {REBUILD}"
    )
    assert set(bundle(graphiql.ASSETS_DIR)) == {*graphiql.BUNDLE, "graphiql.js.LEGAL.txt"}


def test_the_fingerprint_covers_every_source_by_name_and_content(tmp_path):
    web = tmp_path / "graphiql"
    (web / "src").mkdir(parents=True)
    for name in ("package-lock.json", "build.mjs", "src/main.jsx", "src/page.css"):
        (web / name).write_bytes((WEB / name).read_bytes())
    assert sources_fingerprint(web) == sources_fingerprint()
    changed = {sources_fingerprint()}
    (web / "src" / "page.css").write_text("html { color: red }\n")
    changed.add(sources_fingerprint(web))
    (web / "src" / "page.css").rename(web / "src" / "other.css")
    changed.add(sources_fingerprint(web))
    (web / "src" / "more").mkdir()
    (web / "src" / "more" / "extra.js").write_text("export {};\n")
    changed.add(sources_fingerprint(web))
    assert len(changed) == 4


def test_a_rebuild_gives_the_committed_bytes(node_projects, tmp_path):
    # from another working directory, into another directory: nothing of either gets in
    out = tmp_path / "graphiql"
    build = subprocess.run(
        ["node", str(WEB / "build.mjs"), str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    assert bundle(out) == bundle(graphiql.ASSETS_DIR), f"the committed bundle is stale: {REBUILD}"
