"""Each registered cell's equations as the course notes write them: declared once, beside each cell's class
(``@equations({...})`` in its module), appended to the class's docstring (``help(rnnkit.cells.LSTMCell)``)
and printed by ``rnnkit cells``.

The course's notation: ``[h_{t-1}; x_t]`` is the concatenation of the previous state and the input,
``σ`` the logistic sigmoid, ``*`` the elementwise product. Gate order as docs/DESIGN.md names it: the LSTM
family i, f, g, o; the GRU r, z, n. Each variant (``peephole-lstm``, ``gru-course``, ...) has its own
equations, not its base class's. The exact parameter layout is in the class's docstring.
"""

from __future__ import annotations

#: name -> (one-line description, equations); filled by the cell modules, the names of ``rnnkit.cells.CELLS``.
EQUATIONS: dict[str, tuple[str, tuple[str, ...]]] = {}


def render(name: str) -> str:
    description, lines = EQUATIONS[name]
    return "\n".join([f"{name}: {description}", *("    " + line for line in lines)])


def equations(table: dict):
    """Class decorator: register ``table`` (name -> (description, equations)) and append it to the docstring."""

    def register(cls):
        EQUATIONS.update(table)
        text = "\n\n".join(render(name) for name in table)
        cls.__doc__ = (cls.__doc__ or "").rstrip() + "\n\n    Equations (``rnnkit cells``):\n\n" + "\n".join(
            "        " + line for line in text.splitlines()) + "\n"
        return cls

    return register


def describe_cells(names=None) -> str:
    """The text of ``rnnkit cells``: each cell's name, class, description and equations."""
    from rnnkit.cells import CELLS

    blocks = []
    for name in names or CELLS:
        make = CELLS[name]
        cls = getattr(make, "func", make)
        options = ", ".join(f"{k}={v!r}" for k, v in getattr(make, "keywords", {}).items())
        description, lines = EQUATIONS[name]
        head = f"{name} ({cls.__name__}{'(' + options + ')' if options else ''}): {description}"
        blocks.append("\n".join([head, *("    " + line for line in lines)]))
    return "\n\n".join(blocks)
