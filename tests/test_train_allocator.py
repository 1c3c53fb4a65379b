"""The allocator report: what LD_PRELOAD names, and the hint when jemalloc is installed but unused."""

from __future__ import annotations

from train.allocator import JEMALLOC_PATHS, allocator_hint, preloaded_allocator

JEMALLOC = JEMALLOC_PATHS[0]


def test_the_preloaded_allocator_is_read_from_ld_preload():
    assert preloaded_allocator({}) == "default"
    assert preloaded_allocator({"LD_PRELOAD": JEMALLOC}) == "jemalloc"
    assert preloaded_allocator({"LD_PRELOAD": "/opt/x/libfoo.so /usr/lib/libtcmalloc_minimal.so.4"}) == "tcmalloc"
    assert preloaded_allocator({"LD_PRELOAD": "/opt/x/libfoo.so"}) == "default"


def test_the_hint_names_an_installed_jemalloc_only_when_it_is_not_preloaded():
    installed = {JEMALLOC}.__contains__
    hint = allocator_hint({}, exists=installed)
    assert hint is not None and f"LD_PRELOAD={JEMALLOC}" in hint
    assert allocator_hint({"LD_PRELOAD": JEMALLOC}, exists=installed) is None
    assert allocator_hint({}, exists=lambda path: False) is None
    arm = JEMALLOC_PATHS[1]
    assert f"LD_PRELOAD={arm}" in allocator_hint({}, exists={arm}.__contains__)


def test_the_exports_preload_jemalloc_before_what_is_already_preloaded(tmp_path):
    import os
    import subprocess

    from train.allocator import JEMALLOC_CONF, preload_exports

    installed = {JEMALLOC}.__contains__
    assert preload_exports({"LD_PRELOAD": JEMALLOC}, exists=installed) == ""
    assert preload_exports({}, exists=lambda path: False) == ""
    line = preload_exports({"LD_PRELOAD": "/opt/my lib.so"}, exists=installed)
    # The line is evaluated by bash in scripts/reproduce_model.sh: check what bash makes of it.
    shown = subprocess.run(["bash", "-c", f'{line}; printf "%s|%s" "$LD_PRELOAD" "$MALLOC_CONF"'],
                           capture_output=True, text=True, env={"PATH": os.environ["PATH"]}, check=True).stdout
    assert shown == f"{JEMALLOC} /opt/my lib.so|{JEMALLOC_CONF}"
    kept = preload_exports({"MALLOC_CONF": "narenas:2"}, exists=installed)
    assert kept.endswith("MALLOC_CONF=narenas:2")
