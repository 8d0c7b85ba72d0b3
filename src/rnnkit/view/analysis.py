"""What the cells view computes from recorded states: properties of a text, the units that follow one,
and LSTMVis's span selection and match search (Strobelt et al., IEEE TVCG 2018, §4).

    Cells(tokens, joiner, tracks)     the states of one text, computed once and kept by the server
      .heat(kind)                     every unit of every layer as bytes, (units, T) uint8, for the heat-map
      .rank(property, kind)           units by |Pearson r| with a property of the text
      .select(start, end, threshold)  units above the threshold throughout tokens [start, end) and below
                                      it on the token just before and just after (where there is one)
      .matches(units, threshold)      the other runs of tokens where all those units are on together
"""

from __future__ import annotations

import numpy as np

from rnnkit.errors import RnnkitError, unknown_choice


def inside(text: str, opening: str, closing: str) -> np.ndarray:
    """1 on the characters inside a pair (the closing one included), else 0; quotes do not nest."""
    depth, out = 0, []
    for ch in text:
        if ch == closing and depth > 0 and (opening != closing or depth == 1):
            depth -= 1
            out.append(1.0)
            continue
        if ch == opening:
            depth = depth + 1 if opening != closing else 1 - depth
        out.append(float(depth > 0))
    return np.array(out)


def line_position(text: str) -> np.ndarray:
    pos, out = 0, []
    for ch in text:
        out.append(float(pos))
        pos = 0 if ch == "\n" else pos + 1
    return np.array(out)


def indentation(text: str) -> np.ndarray:
    """The leading spaces of each character's line (a tab counts 4): the depth of a block of code."""
    out, depth, leading = [], 0, True
    for ch in text:
        if ch == "\n":
            out.append(float(depth))
            depth, leading = 0, True
            continue
        if leading and ch in " \t":
            depth += 4 if ch == "\t" else 1
        else:
            leading = False
        out.append(float(depth))
    return np.array(out)


#: Properties of each character of a text, ``(T,)`` arrays (``rnnkit inspect --rank`` reads the same).
PROPERTIES = {
    "quotes": lambda t: inside(t, '"', '"'),
    "single-quotes": lambda t: inside(t, "'", "'"),
    "parentheses": lambda t: inside(t, "(", ")"),
    "brackets": lambda t: inside(t, "[", "]"),
    "line-position": line_position,
    "indentation": indentation,
}


def correlations(values: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Pearson r of each column of ``values (T, H)`` with ``target (T,)``: ``(H,)``."""
    a = values - values.mean(0)
    t = target - target.mean()
    return (a * t[:, None]).sum(0) / (np.sqrt((a**2).sum(0) * (t**2).sum()) + 1e-12)


def property_values(prop: str, text: str, where: str = "the text") -> np.ndarray:
    """``PROPERTIES[prop]`` over ``text``; a one-line error when it is unknown or never changes there."""
    if prop not in PROPERTIES:
        raise unknown_choice("property", prop, PROPERTIES)
    target = PROPERTIES[prop](text)
    if target.std() == 0:
        absent = f": it does not occur in its {len(text):,} characters" if not target.any() else ""
        raise RnnkitError(f"{where} never changes the property {prop!r}{absent}; give a text where it varies")
    return target


class Cells:
    """The recorded states of one text (``directions``, from ``rnnkit.view.states.record_states``) over
    its ``tokens``; ``joiner`` rebuilds the text from them ("" for characters, " " for words)."""

    def __init__(self, tokens: list[str], joiner: str, directions: list):
        self.tokens, self.joiner, self.directions = tokens, joiner, directions
        self.kinds = list(dict.fromkeys(k for d in directions for k in d.kinds))
        self._heat, self._tracks = {}, {}

    def of_kind(self, kind: str) -> list:
        """The ``Track`` of ``kind`` of every layer and direction (computed on the first request)."""
        from rnnkit.view.states import tracks

        if kind not in self.kinds:
            raise unknown_choice("state", kind, self.kinds)
        if kind not in self._tracks:
            self._tracks[kind] = tracks(self.directions, kind)
        return self._tracks[kind]

    def matrix(self, kind: str) -> np.ndarray:
        """``(T, units)``: every track of ``kind`` side by side, layer by layer (forward, then backward)."""
        return np.concatenate([t.values for t in self.of_kind(kind)], axis=1)

    def rows(self, kind: str) -> list[dict]:
        """What each row of ``heat(kind)`` is: its layer, direction, unit and the scale of its bytes."""
        out = []
        for t in self.of_kind(kind):
            scale = float(np.abs(t.values).max()) or 1.0
            out += [{"layer": t.layer, "direction": t.direction, "unit": u, "scale": scale}
                    for u in range(t.values.shape[1])]
        return out

    def scales(self, kind: str) -> list[float]:
        """Per track of ``kind``, the largest |v|: a byte b of ``heat(kind)`` is v = (b - 128) / 127 * scale."""
        return [float(np.abs(t.values).max()) or 1.0 for t in self.of_kind(kind)]

    def layout(self) -> list[dict]:
        """Per layer and direction, its kinds and units (what the page needs before any heat-map)."""
        return [{"layer": d.layer, "direction": d.direction, "kinds": list(d.kinds), "units": int(d.found["h"].shape[1])}
                for d in self.directions]

    def heat(self, kind: str) -> bytes:
        """``(units, T)`` uint8, row-major: 128 + round(127 v / s), ``s`` the track's largest |v|."""
        if kind not in self._heat:
            parts = []
            for t in self.of_kind(kind):
                scale = float(np.abs(t.values).max()) or 1.0
                parts.append(np.rint(t.values.T / scale * 127).astype(np.int16) + 128)
            self._heat[kind] = np.concatenate(parts).astype(np.uint8).tobytes()
        return self._heat[kind]

    def text_positions(self) -> tuple[str, np.ndarray]:
        """The text and, per token, the index of its last character in it."""
        ends, n = [], 0
        for i, tok in enumerate(self.tokens):
            n += len(tok) + (len(self.joiner) if i else 0)
            ends.append(max(n - 1, 0))
        return self.joiner.join(self.tokens), np.array(ends)

    def rank(self, prop: str, kind: str, top: int = 10) -> list[dict]:
        """The ``top`` units of ``kind`` whose activation best follows ``prop``, by |r|."""
        text, ends = self.text_positions()
        target = property_values(prop, text)[ends]
        if target.std() == 0:
            raise RnnkitError(f"the text's {self.joiner and 'words' or 'characters'} never change the property {prop!r}")
        r = correlations(self.matrix(kind).astype(np.float64), target)
        order = np.argsort(-np.abs(r), kind="stable")[:top]
        rows = self.rows(kind)
        return [{**{k: rows[i][k] for k in ("layer", "direction", "unit")}, "row": int(i), "r": float(r[i])} for i in order]

    def check_span(self, start: int, end: int) -> None:
        T = len(self.tokens)
        if not 0 <= start < end <= T:
            raise RnnkitError(f"the span {start}..{end} is not within the text's {T} tokens (0 <= start < end <= {T})")

    def select(self, start: int, end: int, threshold: float, kind: str = "h") -> list[int]:
        """Rows of ``heat(kind)`` above ``threshold`` on every token of [start, end) and below it on the
        tokens just outside (LSTMVis's on-set/off-set selection, one token of margin each side)."""
        self.check_span(start, end)
        m = self.matrix(kind)  # (T, units)
        on = (m[start:end] > threshold).all(0)
        if start > 0:
            on &= m[start - 1] <= threshold
        if end < len(m):
            on &= m[end] <= threshold
        return [int(i) for i in np.flatnonzero(on)]

    def matches(self, rows: list[int], threshold: float, kind: str = "h", skip: tuple | None = None,
                top: int = 20) -> list[dict]:
        """The maximal runs of tokens where every unit of ``rows`` is above ``threshold``, longest first
        (``skip``: the selected span itself, left out), each with a little context."""
        if not rows:
            return []
        on = (self.matrix(kind)[:, rows] > threshold).all(1)  # (T,)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(np.int8), [0]])))
        found = []
        for a, b in zip(edges[::2], edges[1::2]):
            if skip is not None and a <= skip[0] and b >= skip[1]:
                continue
            lo, hi = max(0, a - 8), min(len(on), b + 8)
            found.append({"start": int(a), "end": int(b), "before": self.joiner.join(self.tokens[lo:a]),
                          "match": self.joiner.join(self.tokens[a:b]), "after": self.joiner.join(self.tokens[b:hi])})
        return sorted(found, key=lambda m: (-(m["end"] - m["start"]), m["start"]))[:top]
