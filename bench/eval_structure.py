"""Extraction figures against the hand-checked gold file, and what extraction costs.

    python bench/eval_structure.py            # precision/recall against tests/data/structure-gold.json
    python bench/eval_structure.py --cost     # also: spaCy load, extraction time, ms per 1,000 paragraphs
    python bench/eval_structure.py --json     # the figures as JSON
    python bench/eval_structure.py --no-ner   # the same figures for patterns only (no spaCy)
    python bench/eval_structure.py --questions  # also: tests/data/cross-article.jsonl through the router

Events are matched one to one, greedily by score: an extracted event may match a gold event of
the same kind on the same date, or of the same kind whose source paragraphs overlap, or of any
kind whose paragraphs overlap by half or more (Jaccard). Dates, places and participants are then
scored on the matched pairs. Entities match by canonical name or any gold variant (diacritics
ignored); agreements by kind and topic words. A status is right when the agreement, the event
(through the event matching) and the status all agree.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.documents import load_corpus  # noqa: E402
from qa.lexical import fold  # noqa: E402
from qa.structure import Structure, _topic_words, extract  # noqa: E402

GOLD = ROOT / "tests" / "data" / "structure-gold.json"
CROSS = ROOT / "tests" / "data" / "cross-article.jsonl"
NORMAL_SETS = (ROOT / "tests" / "data" / "dev.jsonl", ROOT / "tests" / "data" / "test.jsonl")


def _key(name: str) -> str:
    return " ".join(fold(name).replace("’", "'").split())


def _prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 3),
        "recall": round(r, 3),
        "f1": round(f, 3),
        "tp": tp,
        "pred": n_pred,
        "gold": n_gold,
    }


def _paras(sources: list) -> set[tuple[str, int]]:
    return {(doc, p) for doc, ps in sources for p in ps}


def _name_index(gold: dict) -> dict[str, str]:
    """Folded name or variant -> the gold entity's canonical name."""
    idx: dict[str, str] = {}
    for e in gold["entities"]:
        for v in [e["name"], *e["variants"]]:
            idx.setdefault(_key(v), e["name"])
    return idx


def _same_entity(a: str, b: str, idx: dict[str, str]) -> bool:
    ka, kb = _key(a), _key(b)
    return ka == kb or (idx.get(ka) is not None and idx.get(ka) == idx.get(kb))


def match_events(pred: Structure, gold: dict) -> list[tuple[int, int]]:
    """One-to-one ``(gold index, predicted index)`` pairs."""
    cands = []
    for gi, g in enumerate(gold["events"]):
        gp = _paras(g["sources"])
        for pi, e in enumerate(pred.events):
            pp = {(c.doc_id, c.paragraph) for c in e.citations}
            jac = len(gp & pp) / len(gp | pp) if gp | pp else 0.0
            same_kind = g["kind"] == e.kind
            same_date = bool(g["date"]) and g["date"] == e.date
            if not ((same_kind and same_date) or (same_kind and gp & pp) or jac >= 0.5):
                continue
            cands.append((2 * (same_kind and same_date) + same_kind + jac, gi, pi))
    pairs, used_g, used_p = [], set(), set()
    for _, gi, pi in sorted(cands, reverse=True):
        if gi not in used_g and pi not in used_p:
            pairs.append((gi, pi))
            used_g.add(gi)
            used_p.add(pi)
    return sorted(pairs)


def _role_ok(pred_role: str, gold_role: str) -> bool:
    a, b = _key(pred_role), _key(gold_role)
    return bool(a) and (a in b or b in a)


def evaluate(pred: Structure, gold: dict) -> dict:
    """Every figure, as a dict."""
    idx = _name_index(gold)
    pairs = match_events(pred, gold)
    gev, pev = gold["events"], pred.events
    out: dict = {"events": _prf(len(pairs), len(pev), len(gev))}
    date_ok = sum(gev[g]["date"] == pev[p].date for g, p in pairs)
    inf_ok = sum(gev[g]["date_inferred"] == pev[p].date_inferred for g, p in pairs)
    end_ok = sum(gev[g].get("end_date", "") == pev[p].end_date for g, p in pairs)
    kind_ok = sum(gev[g]["kind"] == pev[p].kind for g, p in pairs)
    place_ok = sum(
        (not gev[g]["place"] and not pev[p].place)
        or (
            bool(gev[g]["place"])
            and bool(pev[p].place)
            and _same_entity(gev[g]["place"], pev[p].place, idx)
        )
        or (bool(gev[g]["place"]) and _key(gev[g]["place"]) in _key(pev[p].place))
        for g, p in pairs
    )
    n = len(pairs) or 1
    out["matched_events"] = {
        "kind_accuracy": round(kind_ok / n, 3),
        "date_accuracy": round(date_ok / n, 3),
        "date_inferred_accuracy": round(inf_ok / n, 3),
        "end_date_accuracy": round(end_ok / n, 3),
        "place_accuracy": round(place_ok / n, 3),
    }
    # Dates over all gold events (an unmatched event's date counts as missed).
    out["event_dates"] = _prf(date_ok, len(pev), len(gev))
    tp = n_pred = n_gold = role_ok = role_n = side_ok = 0
    for g, p in pairs:
        gp, pp = gev[g]["participants"], pev[p].participants
        n_pred += len(pp)
        n_gold += len(gp)
        used: set[int] = set()
        for gpart in gp:
            j = next(
                (
                    j
                    for j, x in enumerate(pp)
                    if j not in used and _same_entity(x.name, gpart["name"], idx)
                ),
                None,
            )
            if j is None:
                continue
            used.add(j)
            tp += 1
            side_ok += pp[j].side == gpart["side"]
            if gpart["role"]:
                role_n += 1
                role_ok += _role_ok(pp[j].role, gpart["role"])
    out["participants"] = _prf(tp, n_pred, n_gold)
    out["participants"]["role_accuracy"] = round(role_ok / role_n, 3) if role_n else 0.0
    out["participants"]["side_accuracy"] = round(side_ok / tp, 3) if tp else 0.0
    out["entities"] = _entities(pred, gold, idx)
    out["agreements"], out["agreement_statuses"] = _agreements(pred, gold, pairs)
    out["unmatched_gold_events"] = [
        gev[i]["id"] for i in range(len(gev)) if i not in {g for g, _ in pairs}
    ]
    out["unmatched_pred_events"] = [
        f"{e.date} {e.kind} {e.name or e.place}"
        for i, e in enumerate(pev)
        if i not in {p for _, p in pairs}
    ]
    return out


def _entities(pred: Structure, gold: dict, idx: dict[str, str]) -> dict:
    res = {}
    for kind in ("person", "org", "place"):
        gk = [e for e in gold["entities"] if e["kind"] == kind]
        pk = [e for e in pred.entities if e.kind == kind]
        matched: dict[str, object] = {}
        for e in pk:
            gname = next((idx[_key(v)] for v in [e.name, *e.variants] if _key(v) in idx), None)
            if gname and any(g["name"] == gname for g in gk) and gname not in matched:
                matched[gname] = e
        res[kind] = _prf(len(matched), len(pk), len(gk))
        if kind in ("person", "org"):
            side = sum(matched[g["name"]].side == g["side"] for g in gk if g["name"] in matched)
            res[kind]["side_accuracy"] = round(side / len(matched), 3) if matched else 0.0
        if kind == "person":
            r_tp = r_n = 0
            r_pred = sum(len(matched[g["name"]].roles) for g in gk if g["name"] in matched)
            for g in gk:
                e = matched.get(g["name"])
                for role, _ in g["roles"]:
                    r_n += 1
                    r_tp += e is not None and any(_role_ok(r, role) for r, _ in e.roles)
            res["roles"] = _prf(r_tp, r_pred, r_n)
            canon = sum(
                _key(matched[g["name"]].name) == _key(g["name"])
                and matched[g["name"]].name == g["name"]
                for g in gk
                if g["name"] in matched
            )
            res["person"]["canonical_name_exact"] = (
                round(canon / len(matched), 3) if matched else 0.0
            )
    return res


def _agreements(pred: Structure, gold: dict, pairs: list[tuple[int, int]]) -> tuple[dict, dict]:
    def words(names: list[str]) -> frozenset[str]:
        return frozenset().union(*(_topic_words(n.split(" on ", 1)[-1]) for n in names))

    matched: dict[str, object] = {}
    for a in pred.agreements:
        aw = words([a.name, *a.variants])
        best, best_j = None, 0.0
        for g in gold["agreements"]:
            if g["id"] in matched:
                continue
            gw = words([g["name"], *g["variants"]])
            same_kind = g["kind"] == a.kind
            j = len(aw & gw) / len(aw | gw) if aw | gw else float(same_kind)
            if same_kind and (j > best_j or (not aw and not gw)):
                best, best_j = g, j
        if best is not None and (
            best_j >= 0.3
            or best["kind"] in ("joint statement", "joint declaration", "training programme")
        ):
            matched[best["id"]] = a
    ag = _prf(len(matched), len(pred.agreements), len(gold["agreements"]))
    gold_event_of = {gold["events"][g]["id"]: pred.events[p].id for g, p in pairs}
    tp_ev = tp_st = n_pred = n_gold = 0
    for g in gold["agreements"]:
        n_gold += len(g["events"])
        a = matched.get(g["id"])
        if a is None:
            continue
        got = {x.event_id: x.status for x in a.events if x.event_id}
        for ge in g["events"]:
            pid = gold_event_of.get(ge["event"])
            if pid in got:
                tp_ev += 1
                tp_st += got[pid] == ge["status"]
    n_pred = sum(len([x for x in a.events if x.event_id]) for a in pred.agreements)
    st = {"event_links": _prf(tp_ev, n_pred, n_gold), "statuses": _prf(tp_st, n_pred, n_gold)}
    return ag, st


def eval_questions(structure: Structure, path: Path = CROSS) -> dict:
    """Route accuracy, recall of expected items and events on the cross-article questions, and
    how many ordinary questions of the dev and test sets the router takes (should be none)."""
    from qa.structured_answer import route, structured_answer

    n = route_ok = items = n_items = evs = n_evs = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        n += 1
        route_ok += route(q["question"]) == q["route"]
        ans = structured_answer(q["question"], structure)
        text = _key(" ".join(r.text for r in ans.rows))
        n_items += len(q["items"])
        items += sum(_key(i) in text for i in q["items"])
        got = {(r.date, structure.event(r.event_id).kind) for r in ans.rows if r.event_id}
        n_evs += len(q["expected_events"])
        evs += sum(
            any(d.startswith(e["date"]) and k == e["kind"] for d, k in got)
            for e in q["expected_events"]
        )
    normal = routed = 0
    for f in NORMAL_SETS:
        for line in f.read_text(encoding="utf-8").splitlines():
            normal += 1
            routed += route(json.loads(line)["question"]) is not None
    return {
        "questions": n,
        "route_accuracy": round(route_ok / n, 3) if n else 0.0,
        "item_recall": round(items / n_items, 3) if n_items else 0.0,
        "expected_event_recall": round(evs / n_evs, 3) if n_evs else 0.0,
        "ordinary_questions_routed": f"{routed}/{normal}",
    }


def cost(docs: list) -> dict:
    """spaCy load time, extraction time on the corpus, and ms per 1,000 paragraphs."""
    from qa.structure import _nlp

    t0 = time.perf_counter()
    _nlp()
    load = time.perf_counter() - t0
    n_par = sum(len(d.paragraphs) for d in docs)
    t0 = time.perf_counter()
    extract(docs)
    corpus_s = time.perf_counter() - t0
    # A bigger corpus: the five articles under 20 different ids (so nothing merges by id).
    copies = [replace(d, doc_id=f"{i:02d}/{d.doc_id}") for i in range(20) for d in docs]
    big_par = sum(len(d.paragraphs) for d in copies)
    t0 = time.perf_counter()
    extract(copies)
    big_s = time.perf_counter() - t0
    # The same without spaCy's NER, to show what the patterns themselves cost.
    import qa.structure as st

    real_ner = st._ner
    st._ner = lambda texts: [[] for _ in texts]
    try:
        t0 = time.perf_counter()
        extract(copies)
        patterns_s = time.perf_counter() - t0
    finally:
        st._ner = real_ner
    return {
        "spacy_load_s": round(load, 3),
        "corpus_paragraphs": n_par,
        "corpus_extract_s": round(corpus_s, 3),
        "big_paragraphs": big_par,
        "big_extract_s": round(big_s, 3),
        "ms_per_1000_paragraphs": round(1000 * big_s / big_par * 1000, 1),
        "patterns_only_ms_per_1000_paragraphs": round(1000 * patterns_s / big_par * 1000, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(ROOT / "corpus"))
    ap.add_argument("--gold", default=str(GOLD))
    ap.add_argument("--cost", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--questions", action="store_true")
    ap.add_argument("--no-ner", action="store_true", help="patterns only (extract(ner=False))")
    args = ap.parse_args()
    docs = list(load_corpus(args.corpus).documents)
    gold = json.loads(Path(args.gold).read_text(encoding="utf-8"))
    measured = cost(docs) if args.cost else None  # first, so spaCy's load is timed cold
    structure = extract(docs, ner=not args.no_ner)
    res = evaluate(structure, gold)
    if measured:
        res["cost"] = measured
    if args.questions:
        res["cross_questions"] = eval_questions(structure)
    if args.json:
        print(json.dumps(res, indent=1, ensure_ascii=False))
        return
    for name in ("events", "event_dates", "participants"):
        print(f"{name:22} " + "  ".join(f"{k}={v}" for k, v in res[name].items()))
    print(
        f"{'matched events':22} " + "  ".join(f"{k}={v}" for k, v in res["matched_events"].items())
    )
    for kind, v in res["entities"].items():
        print(f"{'entities/' + kind:22} " + "  ".join(f"{k}={x}" for k, x in v.items()))
    print(f"{'agreements':22} " + "  ".join(f"{k}={v}" for k, v in res["agreements"].items()))
    for k, v in res["agreement_statuses"].items():
        print(f"{'agreement ' + k:22} " + "  ".join(f"{a}={b}" for a, b in v.items()))
    print("unmatched gold events:", ", ".join(res["unmatched_gold_events"]) or "none")
    print("unmatched extracted events:", "; ".join(res["unmatched_pred_events"]) or "none")
    if args.cost:
        print("cost:", "  ".join(f"{k}={v}" for k, v in res["cost"].items()))
    if args.questions:
        print("cross questions:", "  ".join(f"{k}={v}" for k, v in res["cross_questions"].items()))


if __name__ == "__main__":
    main()
