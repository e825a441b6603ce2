#!/usr/bin/env python3
"""plain-fields.py DIR: of the gzipped texts in DIR (e.g. the Dragnet gold
texts of the shared evaluation set), how many are all ASCII and how many
are "plain" for query's check before normalising (pkg/query/prefilter.go):
every character outside ASCII is neither a letter, digit or mark
(unicodedata's categories L*, N*, Mn, Mc, close to scan.IsWordRune) nor a
soft hyphen or zero-width character (scan.IsIgnorable)."""
import gzip
import os
import sys
import unicodedata

IGNORABLE = {"\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}


def word(c):
    cat = unicodedata.category(c)
    return cat[0] in "LN" or cat in ("Mn", "Mc")


n = ascii_ = plain = 0
for name in os.listdir(sys.argv[1]):
    s = gzip.open(os.path.join(sys.argv[1], name)).read().decode("utf-8", "replace")
    outside = [c for c in s if ord(c) >= 128]
    n += 1
    ascii_ += not outside
    plain += not any(word(c) or c in IGNORABLE for c in outside)
print(f"{n} texts: all ASCII {ascii_ / n:.1%}, plain {plain / n:.1%}")
