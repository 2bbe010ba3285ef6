"""Reading untrusted files with bounded work: size and link checks, zip-bomb checks, text encodings."""

from __future__ import annotations

import codecs
import io
import multiprocessing
import os
import resource
import stat
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path

MAX_FILE_BYTES = 50 * 2**20  # a report file; the largest real ones are a few MB
MAX_UNZIPPED_BYTES = 64 * 2**20  # all members of a .docx together, as declared before any inflating
MAX_ZIP_MEMBERS = 2000
PARSE_SECONDS = 120  # one PDF or DOCX; real reports take well under a second
PARSE_EXTRA_MB = 1024  # memory a parser may add on top of the process it is forked from


class CorpusError(ValueError):
    """A file that cannot be read as a report; the message names the file and the reason."""


def read_bounded(path: Path, follow_links: bool = False, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; links only when `follow_links`."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise CorpusError(f"{path.name}: cannot read ({exc.strerror or exc})") from exc
    if stat.S_ISLNK(info.st_mode) and not follow_links:
        target = os.readlink(path)
        raise CorpusError(f"{path.name}: a symbolic link (to {target}); not followed without --follow-links")
    flags = os.O_RDONLY | os.O_NONBLOCK | (0 if follow_links else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise CorpusError(f"{path.name}: cannot read ({exc.strerror or exc})") from exc
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise CorpusError(f"{path.name}: not a regular file")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise CorpusError(f"{path.name}: over the {limit // 2**20} MB file size limit")
    return data


def check_zip(data: bytes, name: str, limit: int = MAX_UNZIPPED_BYTES) -> None:
    """Refuse a zip whose members would inflate past `limit` before anything is inflated.

    Python's zipfile never reads a member past its declared size, so the declared sizes bound the work.
    """
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise CorpusError(f"{name}: unreadable DOCX (not a zip archive)") from exc
    total = sum(m.file_size for m in members)
    if len(members) > MAX_ZIP_MEMBERS or total > limit:
        raise CorpusError(
            f"{name}: expands to {total / 2**20:,.0f} MB in {len(members)} parts, over the "
            f"{limit // 2**20} MB limit (a zip bomb?)"
        )


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_bytes(data: bytes, name: str) -> str:
    """Text in any encoding reports come in: UTF-8, UTF-16/32 (with or without BOM), GBK/GB18030."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise CorpusError(f"{name}: starts as {encoding} text but is not valid {encoding}") from exc
    if b"\x00" in data[:65536]:
        text = _decode_wide(data)
        if text is None:
            raise CorpusError(f"{name}: binary content in a text file")
        return text
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise CorpusError(f"{name}: not text in any encoding we know (binary file?)")
    return str(best)


def _decode_wide(data: bytes) -> str | None:
    """UTF-16/32 without a BOM: text with ASCII or line breaks has NUL bytes in a fixed lane."""
    sample = data[:65536]
    lanes = [sample[i::4].count(0) / max(1, len(sample[i::4])) for i in range(4)]
    even, odd = (lanes[0] + lanes[2]) / 2, (lanes[1] + lanes[3]) / 2
    guesses = []
    if min(lanes[2], lanes[3]) > 0.9:
        guesses.append("utf-32-le")
    if min(lanes[0], lanes[1]) > 0.9:
        guesses.append("utf-32-be")
    if odd > 0.05 and even < odd / 10:
        guesses.append("utf-16-le")
    if even > 0.05 and odd < even / 10:
        guesses.append("utf-16-be")
    for encoding in guesses:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _plausible(text):
            return text
    return None


def _plausible(text: str) -> bool:
    """Decoded text that is mostly letters, not control characters or unassigned code points."""
    sample = text[:20000]
    odd = sum(1 for ch in sample if unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs") and ch not in "\n\r\t")
    return bool(sample) and odd <= len(sample) / 1000


def _context() -> multiprocessing.context.BaseContext:
    """Children come from a fork server started clean (parsers preloaded): forking the bot itself, with
    Chroma's and the web server's threads holding locks, can leave a child deadlocked."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["pypdf", "docx", "bot.corpus"])
    return ctx


def bounded(parse: Callable[[bytes, str], str], data: bytes, name: str) -> str:
    """Run a parser in a child process with a time and address-space limit: a hostile PDF or DOCX that
    would spin or balloon costs that child, never the bot."""
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_parse_in_child, args=(parse, data, name, send), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(PARSE_SECONDS):
            raise CorpusError(f"{name}: reading it took over {PARSE_SECONDS} s; skipped")
        ok, value = receive.recv()
    except EOFError as exc:  # the child died without a word: a crash in a C parser, or killed for memory
        raise CorpusError(f"{name}: its parser crashed; skipped") from exc
    finally:
        child.kill()
        child.join()
        receive.close()
    if not ok:
        raise CorpusError(value)
    return value


def _parse_in_child(parse: Callable[[bytes, str], str], data: bytes, name: str, send: object) -> None:
    try:
        limit = _address_space() + PARSE_EXTRA_MB * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        send.send((True, parse(data, name)))  # type: ignore[attr-defined]
    except CorpusError as exc:
        send.send((False, str(exc)))  # type: ignore[attr-defined]
    except MemoryError:
        send.send((False, f"{name}: reading it needed over {PARSE_EXTRA_MB} MB of memory; skipped"))  # type: ignore[attr-defined]
    finally:
        os._exit(0)


def _address_space() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
