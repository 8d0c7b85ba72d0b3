"""The course's experiments on long dependencies (course-notes §4): gradient flow, exploding gradients
and clipping, the adding and copy-memory tasks, echo-state networks and multiple-timescale RNNs."""
