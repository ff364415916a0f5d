"""The package build compiles the French (and any other) catalogs, so a wheel or ``pip install .`` is translated.

``codev/translations/<lang>/LC_MESSAGES/messages.po`` become ``messages.mo`` beside them in the build, with
Babel's API as ``pybabel compile`` does (fuzzy entries left out). The checkout's own ``.mo`` files (ignored by
git) come from ``make translations`` for the editable install.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CATALOGS = "codev/translations/*/LC_MESSAGES/*.po"


def compile_catalog(po: Path, mo: Path) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as source:
        catalog = read_po(source, locale=po.parent.parent.name)
    mo.parent.mkdir(parents=True, exist_ok=True)
    with mo.open("wb") as target:
        write_mo(target, catalog, use_fuzzy=False)


class BuildWithCatalogs(build_py):
    """build_py, then every catalog compiled into the build (into the checkout for an editable install)."""

    def run(self) -> None:
        super().run()
        editable = getattr(self, "editable_mode", False)
        for po in sorted(Path().glob(CATALOGS)):
            mo = po.with_suffix(".mo") if editable else Path(self.build_lib) / po.with_suffix(".mo")
            compile_catalog(po, mo)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        compiled = [] if getattr(self, "editable_mode", False) else [
            str(Path(self.build_lib) / po.with_suffix(".mo")) for po in sorted(Path().glob(CATALOGS))]
        return [*super().get_outputs(include_bytecode), *compiled]


setup(cmdclass={"build_py": BuildWithCatalogs})
