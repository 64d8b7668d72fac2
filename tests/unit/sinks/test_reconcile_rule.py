"""The counting rule for reconciled days (sinks/ntjp_rule.py), over random orders
of stream calls, nightly files, late calls and replays (a seeded random loop)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from sinks.ntjp_rule import AppliedFile, counted, listing, standing, stream_row_counts

DAYS = [dt.date(2024, 5, 14) + dt.timedelta(days=i) for i in range(4)]
KEYS = [("SE1", "MakeBooking"), ("SE1", "CancelBooking"), ("SE2", "MakeBooking")]
T0 = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)

Key = tuple[str, str]


def report(present: dict[str, tuple[dt.date, Key]],
           files: list[tuple[AppliedFile, dict[Key, int]]]) -> dict[tuple[dt.date, Key], int]:  # fmt: skip
    """What the reports show for the stream rows present and the files applied."""
    stream = Counter(present.values())
    stands = standing(f for f, _ in files)
    by_sha = {f.sha256: c for f, c in files}
    return counted(stream, {day: by_sha[sha] for day, sha in stands.items()})


def test_the_issue_reproduction_keeps_the_files_counts_through_any_replay() -> None:
    mb = ("SE1", "MakeBooking")
    d14, d15, d16 = DAYS[:3]
    log = [(f"e{i}", d14, mb) for i in range(3)] + [(f"f{i}", d15, mb) for i in range(4)]
    log += [(f"g{i}", d16, mb) for i in range(2)]
    files = [(AppliedFile(d14, T0, "a"), {mb: 5}), (AppliedFile(d15, T0, "b"), {mb: 1})]
    want = {(d14, mb): 5, (d15, mb): 1, (d16, mb): 2}
    everything = {e: (d, k) for e, d, k in log}
    assert report(everything, files) == want
    # a replay from offset 5 holds only the later rows: files stand, d16 is the stream
    assert report({e: (d, k) for e, d, k in log[5:]}, files) == want
    # late calls for the 14th after its file count 0
    assert report(everything | {"late": (d14, mb)}, files) == want


def test_a_stream_row_counts_only_on_a_day_no_file_closed() -> None:
    assert stream_row_counts(DAYS[0], set())
    assert not stream_row_counts(DAYS[0], {DAYS[0]})
    assert stream_row_counts(DAYS[1], {DAYS[0]})


def test_the_last_applied_file_of_a_day_stands_ties_by_hash() -> None:
    d = DAYS[0]
    files = [AppliedFile(d, T0, "b"), AppliedFile(d, T0 + dt.timedelta(seconds=1), "a"),
             AppliedFile(DAYS[1], T0, "x"), AppliedFile(DAYS[1], T0, "y")]  # fmt: skip
    assert standing(files) == {d: "a", DAYS[1]: "y"}


def test_random_orders_of_stream_files_late_calls_and_replays() -> None:
    rng = random.Random(2323)
    for _ in range(400):
        log: list[tuple[str, dt.date, Key]] = []  # the topic, duplicates included
        present: dict[str, tuple[dt.date, Key]] = {}  # raw stream rows, one per event id
        files: list[tuple[AppliedFile, dict[Key, int]]] = []
        contents: list[tuple[dt.date, dict[Key, int]]] = []
        clock = T0
        for _step in range(rng.randint(1, 60)):
            clock += dt.timedelta(seconds=1)
            op = rng.random()
            if op < 0.55:  # a call; sometimes a re-delivery, sometimes late
                if log and rng.random() < 0.1:
                    e, d, k = rng.choice(log)
                else:
                    e, d, k = f"e{len(log)}", rng.choice(DAYS), rng.choice(KEYS)
                log.append((e, d, k))
                present.setdefault(e, (d, k))
            elif op < 0.75:  # a nightly file; sometimes the same file again
                if contents and rng.random() < 0.3:
                    day, counts = rng.choice(contents)
                else:
                    day = rng.choice(DAYS)
                    counts = {k: rng.randint(0, 6) for k in rng.sample(KEYS, rng.randint(0, 3))}
                    contents.append((day, counts))
                sha = f"{day}:{sorted(counts.items())}"
                if sha not in {f.sha256 for f, _ in files}:  # a known hash changes nothing
                    files.append((AppliedFile(day, clock, sha), counts))
            elif op < 0.85:  # backfill from Kafka at an offset (or a time: the same cut)
                start = rng.randint(0, len(log))
                present = {}
                for e, d, k in log[start:]:
                    present.setdefault(e, (d, k))
            elif op < 0.95:  # backfill from raw: the rows stay as they are
                present = dict(present)
            got = report(present, files)
            stands = standing(f for f, _ in files)
            by_sha = {f.sha256: c for f, c in files}
            stream = Counter(present.values())
            for day in DAYS:
                for k in KEYS:
                    n = got.get((day, k), 0)
                    assert n >= 0
                    if day in stands:
                        assert n == by_sha[stands[day]].get(k, 0), (day, k)
                    else:
                        assert n == stream[(day, k)], (day, k)
            # the order calls and files arrived in does not matter, only what is present
            shuffled = list(present.items())
            rng.shuffle(shuffled)
            assert report(dict(shuffled), files) == got


def test_the_listing_shows_whole_day_totals_and_the_rows_that_differ() -> None:
    d = DAYS[0]
    stream = {("SE1", "MakeBooking"): 30, ("SE2", "MakeBooking"): 72}
    file = {("SE1", "MakeBooking"): 6, ("SE2", "MakeBooking"): 72}
    day = listing(d, stream, file, with_rows=True)
    assert (day.stream, day.file, day.correction, day.rows_corrected) == (102, 78, -24, 1)
    assert day.rows == (("SE1", "MakeBooking", 30, 6, -24),)
    assert listing(d, stream, file).rows == ()


def test_reference_file_versions_outrank_what_was_read_and_do_not_climb() -> None:
    from reconcile.apply import file_versions, key_text

    assert key_text(("01", 2024)) == "01/2024"
    # a stream row at offset 5: the file's row gets 6
    assert file_versions(["U1"], {"U1": 5}, {}) == [6]
    # the newest row is that file's own (no record since): it keeps 6
    assert file_versions(["U1"], {"U1": 6}, {"U1": 6}) == [6]
    # a record came since (offset 9): one above it
    assert file_versions(["U1"], {"U1": 9}, {"U1": 6}) == [10]
    # a key no one had, and a key a file dropped that comes back
    assert file_versions(["U2", "U3"], {}, {"U3": 4}) == [0, 4]
