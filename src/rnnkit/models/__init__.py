"""Task models. Every one has ``forward(inputs, targets=None, state=None) -> (outputs, loss, state)``,
so one trainer serves them all."""
