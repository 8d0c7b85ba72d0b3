"""``rnnkit view``: a local web page to look inside trained models of every task, built on the one loader
(``rnnkit.tasks.runner.load``). ``states`` records every unit, ``analysis`` ranks and matches them,
``generate`` streams decoding, ``alignments`` computes attention and marginals, ``runs`` follows run
folders, ``server`` is the web application, ``cli`` the command; the page is ``static/``."""
