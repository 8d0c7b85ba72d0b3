"""Looking inside a trained language model (course-notes §9; Karpathy, Johnson & Fei-Fei 2015).

Some cells of a character LSTM learn interpretable roles: one tracks the position in the line, one
switches on inside quotes or brackets. ``activations`` records every unit of every layer over a
text (the memory cell c_t for the LSTM family, else h_t); ``rank_units`` finds the units that
correlate best with a property of the text (the properties and the correlation are ``rnnkit.view.analysis``'s,
which the interactive page of ``rnnkit view`` uses); ``render_html`` colours the text by one unit.
"""

from __future__ import annotations

import html

import numpy as np
import torch

from rnnkit.cells import LSTMState


from rnnkit.view.analysis import PROPERTIES, correlations, property_values  # the cells view's own code


@torch.no_grad()
def activations(model, ids: list[int]) -> list[np.ndarray]:
    """Per layer, the ``(T, H)`` activations after reading each character (c_t for LSTM-family cells,
    h_t otherwise; a bidirectional layer is not expected in a language model)."""
    model.eval()
    x = model.encode(torch.tensor([ids], device=next(model.parameters()).device))  # (1, T, E)
    per_layer = []
    for layer in model.rnn.layers:
        cell, state, outs, records = layer.cell, layer.init_state(1), [], []
        for t in range(x.shape[1]):
            out, state = cell(x[:, t], state)
            outs.append(out)
            records.append((state.c if isinstance(state, LSTMState) else out)[0])
        per_layer.append(torch.stack(records).float().cpu().numpy())  # (T, H)
        x = torch.stack(outs, dim=1)  # the next layer's input, (1, T, H)
    return per_layer


def rank_units(acts: list[np.ndarray], text: str, prop: str, top: int = 5,
               where: str = "the text") -> list[tuple[int, int, float]]:
    """``(layer, unit, correlation)`` of the units whose activation best tracks ``prop`` (|Pearson r|);
    ``where`` names the text in the error when the property does not vary over it."""
    target = property_values(prop, text, where)
    rows = []
    for l, a in enumerate(acts):
        rows += [(l, u, float(v)) for u, v in enumerate(correlations(a.astype(np.float64), target))]
    return sorted(rows, key=lambda row: -abs(row[2]))[:top]


def render_html(text: str, values: np.ndarray, title: str) -> str:
    """The text with each character's background coloured by ``values`` (blue negative, red positive)."""
    scale = float(np.abs(values).max()) or 1.0
    spans = []
    for ch, v in zip(text, values / scale):
        color = f"rgba(220,40,40,{v:.2f})" if v > 0 else f"rgba(40,80,220,{-v:.2f})"
        shown = "&#8629;<br>" if ch == "\n" else html.escape(ch).replace(" ", "&nbsp;")
        spans.append(f'<span style="background:{color}">{shown}</span>')
    return (f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body style='font-family:monospace'><h3>{html.escape(title)}</h3>{''.join(spans)}</body></html>")


def render_terminal(text: str, values: np.ndarray) -> str:
    """The text with ANSI 256-colour backgrounds: blue (negative) .. white .. red (positive)."""
    scale = float(np.abs(values).max()) or 1.0
    ramp = [21, 27, 33, 39, 45, 231, 217, 210, 203, 196, 160]
    out = []
    for ch, v in zip(text, values / scale):
        code = ramp[int(round((v + 1) / 2 * (len(ramp) - 1)))]
        out.append(f"\x1b[48;5;{code}m\x1b[30m{ch if ch != chr(10) else ' '}\x1b[0m" + ("\n" if ch == "\n" else ""))
    return "".join(out)
