"""How far ahead (or back) a desk may set things that keep a customer out of the queue.

One place for these numbers: the services check them, and migration 0004 writes the
same values into the team database's guards, so an agent's own connection cannot
pause a customer for ten years or hold them forever either. Changing a value here
needs a migration that rewrites the guards (``tests/db/test_attacks.py`` checks the
database's copy is this one).
"""

from __future__ import annotations

#: A pause of collection lasts at most this many days; then it is reviewed and extended.
MAX_PAUSE_DAYS = 183

#: A promise to pay is due at most this many days ahead; longer is an arrangement.
MAX_PROMISE_DAYS = 92

#: A next step lies at most this many days ahead (a customer never drops out of sight
#: for longer than a year).
MAX_NEXT_STEP_DAYS = 366

#: A desk holds a customer (a lease) for at most this many hours; desks ask 20 minutes.
MAX_HOLD_HOURS = 24

#: A 14-day letter an agent records was sent at most this many days ago; an older one
#: (its term long run out, its costs owed at once) is for a supervisor to record.
MAX_NOTICE_BACKDATE_DAYS = 31
