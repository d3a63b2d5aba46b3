"""The pinned PyPI packages the Python corpus is cut from.

Each entry names the sdist (exact version), the module files whose functions become
cases, the test files that hold those functions' own tests, which files of the sdist
are copied into a case's tree, and the import path the tests need.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Package:
    name: str                       # the PyPI name
    version: str                    # pinned exactly
    modules: dict[str, tuple[str, ...]]  # module file -> its test files (paths in the sdist)
    copy: tuple[str, ...]           # files/dirs of the sdist a case's tree holds
    pythonpath: tuple[str, ...] = (".",)
    cap: int = 40                   # at most this many cases from this package
    pytest_args: tuple[str, ...] = field(default_factory=tuple)

    @property
    def dirname(self) -> str:
        return f"{self.name}-{self.version}"


PACKAGES: tuple[Package, ...] = (
    Package(
        "inflection", "0.5.1",
        modules={"inflection/__init__.py": ("test_inflection.py",)},
        copy=("inflection", "test_inflection.py"), cap=20),
    Package(
        "toolz", "1.0.0",
        modules={"toolz/itertoolz.py": ("toolz/tests/test_itertoolz.py",),
                 "toolz/dicttoolz.py": ("toolz/tests/test_dicttoolz.py",),
                 "toolz/functoolz.py": ("toolz/tests/test_functoolz.py",),
                 "toolz/recipes.py": ("toolz/tests/test_recipes.py",)},
        copy=("toolz", "tlz"), cap=40),
    Package(
        "more-itertools", "10.5.0",
        modules={"more_itertools/more.py": ("tests/test_more.py",),
                 "more_itertools/recipes.py": ("tests/test_recipes.py",)},
        copy=("more_itertools", "tests/__init__.py", "tests/test_more.py",
              "tests/test_recipes.py"), cap=45),
    Package(
        "boltons", "24.1.0",
        modules={"boltons/strutils.py": ("tests/test_strutils.py",),
                 "boltons/iterutils.py": ("tests/test_iterutils.py",),
                 "boltons/mathutils.py": ("tests/test_mathutils.py",),
                 "boltons/dictutils.py": ("tests/test_dictutils.py",),
                 "boltons/listutils.py": ("tests/test_listutils.py",)},
        # tests/conftest.py is left out: its pytest_ignore_collect(path) hook is
        # rejected by pytest 9, and it only skips files named *_pyX.
        copy=("boltons", "tests/__init__.py", "tests/test_strutils.py",
              "tests/test_iterutils.py", "tests/test_mathutils.py",
              "tests/test_dictutils.py", "tests/test_listutils.py"), cap=40),
    Package(
        "semver", "3.0.2",
        modules={"src/semver/version.py": (
            "tests/test_bump.py", "tests/test_compare.py", "tests/test_format.py",
            "tests/test_index.py", "tests/test_match.py", "tests/test_parsing.py",
            "tests/test_replace.py", "tests/test_semver.py", "tests/test_immutable.py",
            "tests/test_max-min.py"),
            "src/semver/_deprecated.py": ("tests/test_deprecated_functions.py",)},
        copy=("src", "tests"), pythonpath=("src", "tests"), cap=30,
        pytest_args=("--import-mode=importlib",)),
)
