"""`bot ingest` and `bot ask`: a thin shell over the library."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import unicodedata
from pathlib import Path

from pydantic import ValidationError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bot", description="Questions over county rule-of-law reports, answered with cited passages."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ingest = sub.add_parser("ingest", help="index the seeds folder and any extra report files or folders")
    ingest.add_argument("paths", nargs="*", type=Path, help="report files or folders (.txt .md .html .pdf .docx)")
    ingest.add_argument("--follow-links", action="store_true", help="read symbolic links (refused by default)")
    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print exactly one JSON object")
    ask.add_argument("--history", type=Path, help="JSON file: a list of [user, assistant] pairs")
    ask.add_argument("--backend", help="answer backend (default: BOT_LLM_BACKEND or extractive)")
    ask.add_argument("--region", help="only reports of this region (环翠区, 环翠, Huancui, 威海, 浙江 …)")
    ask.add_argument("--year", type=int, help="only reports covering this year")
    serve = sub.add_parser("serve", help="run the web app (same as app.py)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7860)
    ev = sub.add_parser("eval", help="score the bot on a question file")
    ev.add_argument("--questions", type=Path, required=True, help="JSONL question file")
    ev.add_argument("--out", type=Path, required=True, help="folder for results.jsonl, summary.json, report.md")
    ev.add_argument("--backend", help="answer backend to evaluate")
    ev.add_argument("--k", type=int, help="chunks retrieved per question (also the k of recall@k)")
    ev.add_argument("--min-score", type=float, help="exit 1 when answer accuracy is below this")
    ev.add_argument(
        "--min-llm-share",
        type=float,
        help="exit 1 when fewer than this share of the answers the model was asked for came from it (not fallbacks)",
    )
    ev.add_argument("--compare", type=Path, help="an earlier output folder: print what got fixed and what broke")
    ev.add_argument("--judge", action="store_true", help="also LLM-judge faithfulness and relevance")
    return parser


def _load_history(path: Path | None) -> list[tuple[str, str]]:
    if path is None:
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [(str(u), str(a)) for u, a in data]
    except (OSError, ValueError, TypeError) as exc:
        raise SystemExit(f"bot: --history {path}: expected a JSON list of [user, assistant] pairs ({exc})") from exc


def _cmd_ingest(args: argparse.Namespace) -> int:
    from bot.api import Bot

    missing = [p for p in args.paths if not p.exists() and not p.is_symlink()]
    if missing:
        print(f"bot: no such file or folder: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    bot = Bot(progress=lambda msg: print(msg, file=sys.stderr))
    if bot.built is not None:  # opening the bot indexed the seeds (first run): say what that did
        print(bot.built.summary())
        if not args.paths:
            return 0
    report = bot.ingest(args.paths, follow_links=args.follow_links)  # each skipped file is said once, as it happens
    print(report.summary())
    return 0


def _cmd_ask(args: argparse.Namespace) -> int:
    from bot.api import Bot
    from bot.config import get_settings
    from bot.deadline import Deadline
    from bot.models import Answer
    from bot.query import Filters

    history = _load_history(args.history)
    deadline = Deadline(get_settings().llm_timeout - _seconds_since_start())  # imports and opening the index count
    bot = Bot(progress=lambda msg: print(msg, file=sys.stderr))
    filters = Filters(region=args.region, year=args.year) if args.region or args.year else None
    backend = args.backend or bot.settings.llm_backend
    draft = Draft(enabled=not args.json and bot.backend(backend).name != "extractive")
    result: Answer | None = None
    for item in bot.stream(args.question, history=history, backend=backend, filters=filters, deadline=deadline):
        if isinstance(item, Answer):
            result = item
        else:
            draft.add(item)
    assert result is not None
    if args.json:
        print(result.to_json())
        return 0
    draft.replace()
    print(result.answer)
    if result.citations:
        print()
        for c in result.citations:
            print(f"[{c.n}] {c.title} · {c.section or '—'} · {c.doc_id}:{c.start}-{c.end}")
    return 0


def _seconds_since_start() -> float:
    """How long ago this process started (Linux /proc; 0 elsewhere), so `bot ask` keeps BOT_LLM_TIMEOUT whole."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


DRAFT_HEAD = "— 草稿（未核实）Draft, not verified —"
VERIFIED_HEAD = "— 核实后的回答 Verified answer —"


class Draft:
    """The model's text as it streams, under a header that says it is unverified. On a terminal it is erased
    when the verified answer is ready; elsewhere (a pipe, a log) the verified answer follows under its own header."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.text = ""
        self.tty = sys.stdout.isatty()

    def add(self, piece: str) -> None:
        if not self.enabled:
            return
        if not self.text:
            print(DRAFT_HEAD, flush=True)
        self.text += piece
        print(piece, end="", flush=True)

    def replace(self) -> None:
        if not self.text:
            return
        if self.tty:
            lines = 1 + _screen_lines(self.text, shutil.get_terminal_size().columns)
            print(f"\r\x1b[{lines - 1}F\x1b[J" if lines > 1 else "\r\x1b[J", end="")
        else:
            print()
        print(VERIFIED_HEAD)


def _screen_lines(text: str, columns: int) -> int:
    """How many terminal rows the text covers (wide characters take two columns)."""
    rows = 0
    for line in text.split("\n"):
        width = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
        rows += max(1, -(-width // max(columns, 1)))
    return rows


def _cmd_eval(args: argparse.Namespace) -> int:
    from bot.api import Bot
    from bot.config import get_settings
    from bot.evaluate import below_llm_share, load_questions, run_eval
    from bot.evaluate import compare as compare_runs

    questions = load_questions(args.questions)
    settings = get_settings()
    if args.k:
        settings = settings.model_copy(update={"top_k": args.k})
    backend = args.backend or settings.llm_backend
    judge_fn = None
    if args.judge:
        from bot.judge import make_judge

        if backend == "extractive":
            raise ValueError("--judge needs an LLM backend (--backend openai or llamacpp)")
        judge_fn = make_judge(backend, settings)
    bot = Bot(settings, progress=lambda msg: print(msg, file=sys.stderr))
    summary = run_eval(
        lambda q: bot.answer(q.question, history=q.history, backend=backend),
        bot,
        questions,
        args.out,
        settings.top_k,
        lambda m: print(m, file=sys.stderr),
        judge_fn,
        backend,
    )
    overall = summary["overall"]
    print(json.dumps(overall, ensure_ascii=False))
    print(json.dumps(summary["llm"], ensure_ascii=False))
    print(f"report: {args.out / 'report.md'}")
    if args.compare:
        print(compare_runs(args.out, args.compare))
    if args.min_score is not None and (overall["answer_accuracy"] or 0) < args.min_score:
        print(f"answer accuracy {overall['answer_accuracy']} is below the floor {args.min_score}", file=sys.stderr)
        return 1
    short = below_llm_share(summary, args.min_llm_share) if args.min_llm_share is not None else None
    if short:
        print(short, file=sys.stderr)
        return 1
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from bot.api import Bot
    from bot.ui import serve

    serve(Bot(progress=lambda msg: print(msg, file=sys.stderr)), args.host, args.port)
    return 0


_COMMANDS = {"ingest": _cmd_ingest, "ask": _cmd_ask, "eval": _cmd_eval, "serve": _cmd_serve}


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (ValidationError, ValueError) as exc:
        print(f"bot: configuration or input error: {_first_line(exc)}", file=sys.stderr)
        return 2
    except (RuntimeError, OSError) as exc:
        print(f"bot: {_first_line(exc)}", file=sys.stderr)
        return 1


def _first_line(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, ValidationError):
        text = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return text.splitlines()[0] if text else type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
