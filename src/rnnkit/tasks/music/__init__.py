"""`rnnkit music`: polyphonic piano-roll modelling (Bach chorales), next-frame NLL, generation to MIDI."""
