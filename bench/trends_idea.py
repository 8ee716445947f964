"""IDEA's protocol on a real stream (YouTube for iOS, 5,000 App Store reviews, 33 versions): the issues flagged for
version v are checked against the release notes that came after it (what the developers then changed).

    python -m bench.trends_idea [--write-keyterms]

Key terms of a release note (written once to bench/idea_youtube_keyterms.csv by ``--write-keyterms``; the rule
below, no hand edits): each numbered item of the note is one change, its key words its words, lower-cased, without
stop words, generic release-note words (GENERIC) and words of two letters or fewer. A note with none ("Bug fixes and
stability improvements") has nothing to check against.

Matching a word of a flag's phrases (stop words left out) with a key word of a change: the two reduce to the same
``stem``, or (``--cosine``, 0.6 unless set) their all-MiniLM-L6-v2 word vectors (the packaged encoder, mean-pooled,
one word a text) have a cosine of at least 0.6. 0.6 is IDEA's own threshold on its word2vec similarity; for MiniLM it
was fixed before any score was computed, from the vectors alone: 0.09% of random pairs of the stream's 2,000
commonest content words reach it (0.5: 0.36%, 0.7: 0.03%), while inflections reach 0.8-0.92 (crash/crashing,
reply/replies) and related words 0.6-0.65 (comment/reply, login/account). A flag is mentioned when one of its words
matches a key word of one of the changes; a change is covered when one of its key words matches a word.

Two protocols, both reported:
- ``idea``: IDEA's evaluation as its published code computes it (armor-ai/IDEA, src/main.py ``validation``):
  versions with more than 50 reviews (IDEA's own cut); the changes of the next two release notes after v (IDEA merges
  a version's changelog with the following one); Precision_E(v) = mentioned flags / flags, over the versions with a
  flag; Recall_L(v) = covered changes / changes; each averaged over the versions (macro) and F_hybrid their harmonic
  mean. In IDEA, Recall_L is the recall of *topic labeling*: the labels of all of a version's topics (12 topics x 3
  phrases), emerging or not. Reported both ways: Recall_L of the version's flags (as docs read it), and of the labels
  of the version's topics, found by the product's topic finder on the version's reviews (TF-IDF vectors and the
  defaults of conf/trends/default.yaml, every topic's words).
- ``strict``: the next release note only, lexical matching only (same stem), pooled over the versions that were
  tested (trends.min_reviews reviews and history), Recall_L of the flags.
Sensitivity: the ``idea`` protocol with cosine 0.5, 0.7, 0.8 and with the same stem only.
Also: the incident's first flagged week (by week, same run).
"""
