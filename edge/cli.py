"""`emotions`: the exhibit and its tools. Each subcommand lives in its own module exposing
HELP, add_arguments(parser) and main(args) -> exit code; modules are imported lazily so that
`emotions classify` never pays for pygame and nothing here imports TensorFlow."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# pygame prints a banner on stdout at import; `emotions classify --json` must print only JSON.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

COMMANDS: dict[str, str] = {
    "run": "edge.ui.app",
    "classify": "edge.commands.classify",
    "watch": "edge.commands.watch",
    "bench": "edge.commands.bench",
    "doctor": "edge.kiosk.doctor",
    "stats": "edge.kiosk.stats",
    "soak": "edge.kiosk.soak",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emotions",
        description="Emotions in Action: an offline facial-expression exhibit. Run the exhibit or its tools.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:  # a part not installed on this machine (or not built yet)
            sub.add_parser(name, help=f"(unavailable: {err})")
            continue
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(_module=module)
    return parser


def with_default_command(argv: list[str]) -> list[str]:
    """`emotions --source demo` means `emotions run --source demo`: options before any command belong to `run`
    (a bare `emotions` runs the exhibit too). Global options (-v) and help stay in front."""
    globals_ = {"-v", "--verbose"}
    i = 0
    while i < len(argv) and argv[i] in globals_:
        i += 1
    if i == len(argv) or (argv[i].startswith("-") and argv[i] not in ("-h", "--help")):
        return [*argv[:i], "run", *argv[i:]]
    return argv


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(with_default_command(list(sys.argv[1:] if argv is None else argv)))
    from edge.kiosk.logs import setup_logging

    setup_logging(args.verbose)  # levels for journald, and a filter that keeps image data out of logs
    module = getattr(args, "_module", None)
    if module is None:
        print(f"emotions: error: '{args.command}' is unavailable on this installation", file=sys.stderr)
        return 2
    try:
        return int(module.main(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
