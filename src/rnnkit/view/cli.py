"""``rnnkit view RUN [RUN ...]``: a local web page to look inside trained models (the runs' curves, the
cells, generation, attention and alignments). Starlette and uvicorn are imported inside the handler
(``pip install 'rnnkit[view]'``); building the parser imports neither them nor torch."""

from __future__ import annotations

import sys

DESCRIPTION = (
    "Serve a local web page over the given run folders: the curves of their metrics.jsonl (updating while a run "
    "trains), the cells of models that read text (a heat-map of every unit, a unit's colours over the text, units "
    "ranked by a property, LSTMVis's span selection and matches), generation token by token, and the attention "
    "and alignment views. It binds 127.0.0.1 unless --host says otherwise, and reads only these folders and what "
    "is uploaded to it. Stop it with Ctrl-C.")
LOCAL = ("127.0.0.1", "localhost", "::1")


def open_socket(host: str, port: int):
    """A listening socket on ``host:port`` (port 0: a free one), refused in one line when taken."""
    import socket

    from rnnkit.errors import RnnkitError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        if e.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
            raise RnnkitError(f"port {port} is in use on {host}; choose another with --port (--port 0: any free one)") from None
        raise RnnkitError(f"cannot listen on {host}:{port}: {e.strerror}; check --host and --port") from None
    sock.listen(64)
    return sock


def cmd_view(args) -> int:
    from rnnkit.errors import RnnkitError

    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError:
        raise RnnkitError("rnnkit view needs starlette and uvicorn: pip install 'rnnkit[view]'") from None
    from rnnkit.view.runs import Run, check_run_folder
    from rnnkit.view.server import create_app

    runs = [Run(i, check_run_folder(path)) for i, path in enumerate(args.runs)]
    for run in runs:
        try:
            run.checkpoint_stamp()
        except RnnkitError:
            continue  # a run still starting: its curves now, its model once it has a checkpoint
        loaded = run.loaded()  # a corrupt checkpoint, or one of a task the view does not know: one line now
        print(f"run {run.index}: {run.path} ({loaded.task.what}, step {loaded.meta.get('step', '?')})")
    sock = open_socket(args.host, args.port)
    host, port = sock.getsockname()[:2]
    if args.host not in LOCAL:
        print(f"warning: --host {args.host} serves the page to every machine that can reach this one; it has no "
              "login (use 127.0.0.1 and an SSH tunnel to share it safely)", file=sys.stderr)
    shown = f"[{host}]" if ":" in host else host
    print(f"rnnkit view: http://{shown}:{port}/  (Ctrl-C stops it)", flush=True)
    config = uvicorn.Config(create_app(runs), log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    return 0


def register(sub) -> None:
    from rnnkit.cli_args import number

    p = sub.add_parser("view", help="a local web page to look inside trained models", description=DESCRIPTION)
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folders (--out of `rnnkit <task> train`), or checkpoint folders")
    p.add_argument("--port", type=number(int, low=0, high=65535), default=8000,
                   help="port to listen on (default: 8000; 0: any free port, printed)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only; another prints a warning)")
    p.set_defaults(func=cmd_view)
