"""``rnnkit export RUN --out DIR``: any task's checkpoint to ONNX graphs that onnxruntime runs without torch
(docs/export.md). onnx and torch are imported inside the handler."""

from __future__ import annotations

DESCRIPTION = ("Export a trained model (a run folder or a checkpoint folder of any task) to ONNX: DIR/*.onnx (one "
               "graph per part: the char-LM's step and scorer, an encoder and a decoder step for translate and "
               "caption, the whole model otherwise), DIR/config.json (vocabularies, special ids, preprocessing and "
               "decoding settings), DIR/README.md (every input and output) and DIR/runtime.py (numpy + onnxruntime "
               "only: generate, classify, forecast, tag, translate, caption, transcribe).")


def cmd_export(args) -> int:
    from rnnkit.export.exporter import export

    config = export(args.run, args.out, opset=args.opset, recurrence=args.recurrence, check=not args.no_check)
    files = ", ".join(p["file"] for p in config["parts"].values())
    print(f"exported {config['task']} ({config['cell'] or 'no recurrent cell'}) from {config['checkpoint']} to "
          f"{args.out}: {files}, config.json, README.md, runtime.py")
    if "check" in config:
        print(f"onnxruntime agrees with PyTorch: max |difference| {config['check']['max_abs_difference']:.2e} "
              f"on {config['check']['inputs']}")
    return 0


def register(sub) -> None:
    from rnnkit.cli_args import number

    p = sub.add_parser("export", help="export a trained model to ONNX, runnable without PyTorch (onnxruntime)",
                       description=DESCRIPTION)
    p.add_argument("run", help="run folder (its best/ checkpoint) or checkpoint folder, of any task")
    p.add_argument("--out", required=True, help="folder to write the ONNX files, config.json, README.md, runtime.py")
    p.add_argument("--opset", type=number(int, low=1), default=17,
                   help="ONNX opset to write (default: 17; from 14 to the newest the installed onnx writes)")
    p.add_argument("--recurrence", choices=("native", "scan"), default="native",
                   help="native: ONNX's RNN/LSTM/GRU operators for the standard cells and a Scan for every variant; "
                   "scan: a Scan for every cell (default: native)")
    p.add_argument("--no-check", action="store_true",
                   help="skip running each graph once with onnxruntime against PyTorch after writing it")
    p.set_defaults(func=cmd_export)
