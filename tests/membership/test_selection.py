"""The proposed slate: what it picks and why, that it never breaks a hard rule, and that its
rule results agree with ``membership.rules`` (which the services enforce)."""

from __future__ import annotations

import datetime
import random
from dataclasses import replace

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asi_wg.models import Organisation
from groups.models import WorkingGroup
from membership import rules, services
from membership.models import Application, Member, Offer, ParticipantProfile, Seat
from membership.regions import REGIONS
from membership.selection import explanations, method, verification
from membership.selection.slate import (
    DEFAULT_WEIGHTS,
    OFFER,
    SEAT,
    Candidate,
    Holder,
    SelectionInput,
    Slate,
    Traits,
)
from membership.selection.workbench import workbench_for_group
from tests.factories import (
    ApplicationFactory,
    FocusAreaFactory,
    MemberFactory,
    ParticipantProfileFactory,
    ValueChainSegmentFactory,
    WorkingGroupFactory,
)

T0 = datetime.datetime(2025, 3, 1, 9, 0, tzinfo=datetime.UTC)
INDUSTRY, CIVIL = "industry", "civil_society"


def cand(
    application_id: int,
    *,
    member: int | None = None,
    region: str = "Europe",
    perspective: str = INDUSTRY,
    segments: tuple[str, ...] = (),
    size: str = "large",
    focus: tuple[int, ...] = (),
    priority: int = 0,
    minute: int | None = None,
    eligible: bool = True,
    status: str = "submitted",
) -> Candidate:
    member_id = member if member is not None else 1000 + application_id
    return Candidate(
        application_id=application_id,
        person_id=application_id,
        member_id=member_id,
        member_name=f"Member {member_id}",
        member_rep=True,
        eligible=eligible,
        eligibility_message="Eligible." if eligible else "No longer a Member.",
        traits=Traits(
            region=region,
            perspective=perspective,
            segments=segments,
            size_band=size,
            focus_areas=frozenset(focus),
        ),
        priority=priority,
        applied_at=T0 + datetime.timedelta(minutes=application_id if minute is None else minute),
        status=status,
    )


def held(person_id: int, *, member: int | None = None, **traits: object) -> Holder:
    return Holder(person_id=person_id, member_id=member, traits=Traits(**traits))  # type: ignore[arg-type]


def data(
    candidates: list[Candidate],
    *,
    cap: int = 30,
    holders: tuple[Holder, ...] = (),
    limit: int | None = None,
    elsewhere: dict[int, frozenset[int]] | None = None,
    focus: tuple[tuple[int, str], ...] = (),
    group_id: int = 1,
) -> SelectionInput:
    return SelectionInput(
        group_id=group_id,
        seat_cap=cap,
        member_group_limit=limit,
        focus_areas=focus,
        holders=holders,
        candidates=tuple(candidates),
        member_groups_elsewhere=elsewhere or {},
    )


def ids(slate: Slate) -> list[int]:
    return slate.application_ids


def reason_of(slate: Slate, application_id: int) -> str:
    for proposal in slate.proposals:
        if proposal.application_id == application_id:
            return proposal.reason
    for left in slate.not_proposed:
        if left.application_id == application_id:
            return left.reason
    raise AssertionError(f"{application_id} is neither proposed nor explained")


# --- What the method picks, and why -----------------------------------------------------------


def test_a_new_region_wins_over_an_earlier_applicant_from_a_region_already_seated() -> None:
    holders = (held(90, member=90, region="Europe", perspective=INDUSTRY, size_band="large"),)
    first = cand(1, region="Europe")
    later = cand(2, region="Africa")
    slate = method.propose_slate(data([first, later], cap=2, holders=holders))
    assert ids(slate) == [2]
    assert reason_of(slate, 2) == "Adds region Africa."
    assert reason_of(slate, 1).startswith("Not reached: the free seats went to applicants")


def test_uncovered_focus_areas_come_first() -> None:
    focus = ((11, "Eco-design"), (12, "Scrap sorting"), (13, "EPR"))
    holders = (
        held(
            90,
            member=90,
            region="Europe",
            perspective=INDUSTRY,
            size_band="large",
            focus_areas=frozenset({11}),
        ),
    )
    covered_again = cand(1, focus=(11,))
    new_areas = cand(2, focus=(12, 13))
    slate = method.propose_slate(
        data([covered_again, new_areas], cap=2, holders=holders, focus=focus)
    )
    assert ids(slate) == [2]
    assert reason_of(slate, 2) == "Covers 2 uncovered focus area(s): Scrap sorting; EPR."


def test_civil_society_balances_a_group_of_industry() -> None:
    holders = tuple(
        held(90 + n, member=90 + n, region="Europe", perspective=INDUSTRY, size_band="large")
        for n in range(3)
    )
    industry = cand(1, perspective=INDUSTRY, priority=5)
    civil = cand(2, perspective=CIVIL)
    slate = method.propose_slate(data([industry, civil], cap=4, holders=holders))
    assert ids(slate) == [2]
    assert reason_of(slate, 2) == (
        "Adds the Civil society perspective; balances civil society against industry "
        "(0 against 3 so far)."
    )


def test_the_balance_keeps_favouring_the_smaller_side_once_both_are_present() -> None:
    holders = tuple(
        held(90 + n, member=90 + n, region="Europe", perspective=p, size_band="large")
        for n, p in enumerate([INDUSTRY] * 4 + [CIVIL])
    )
    # The industry applicant brings a segment nobody has; the civil-society one brings none.
    industry = cand(1, perspective=INDUSTRY, segments=("Recycling",), priority=5)
    civil = cand(2, perspective=CIVIL)
    slate = method.propose_slate(data([industry, civil], cap=6, holders=holders))
    assert ids(slate) == [2]
    assert reason_of(slate, 2) == "Balances civil society against industry (1 against 4 so far)."
    assert reason_of(slate, 1).endswith(
        "this applicant adds segment Recycling (score 3.17, against 3.67 for the last proposed)."
    )


def test_ticking_every_focus_area_counts_at_most_three() -> None:
    focus = tuple((n, f"Area {n}") for n in range(1, 9))
    everything = cand(1, focus=tuple(range(1, 9)))
    four = cand(2, focus=(1, 2, 3, 4))
    slate = method.propose_slate(data([everything, four], cap=1, focus=focus))
    # Both bring three uncovered areas that count: the tie goes to the earlier application.
    assert (
        slate.proposals[0].score
        == method.propose_slate(data([four], cap=1, focus=focus)).proposals[0].score
    )


def test_equal_scores_follow_the_waiting_list_order() -> None:
    same = {"region": "Asia"}
    late_but_prioritised = cand(1, priority=2, minute=50, **same)  # type: ignore[arg-type]
    early = cand(2, minute=1, **same)  # type: ignore[arg-type]
    late = cand(3, minute=30, **same)  # type: ignore[arg-type]
    holders = (held(90, member=90, region="Asia", perspective=INDUSTRY, size_band="large"),)
    slate = method.propose_slate(data([late, early, late_but_prioritised], cap=4, holders=holders))
    assert ids(slate) == [1, 2, 3]
    assert "same score by waiting-list order" in reason_of(slate, 1)


def test_the_slate_stops_at_the_cap_and_a_full_group_gets_no_proposal() -> None:
    pool = [cand(n, region=REGIONS[n % len(REGIONS)]) for n in range(1, 11)]
    assert len(ids(method.propose_slate(data(pool, cap=4)))) == 4
    holders = tuple(held(90 + n, member=90 + n) for n in range(3))
    full = method.propose_slate(data(pool, cap=3, holders=holders))
    assert ids(full) == []
    assert full.free_at_start == 0
    assert len(full.not_proposed) == 10


def test_open_offers_hold_capacity_and_count_for_one_per_member() -> None:
    offer = Holder(person_id=90, member_id=7, traits=Traits(), kind=OFFER)
    same_member = cand(1, member=7)
    other = cand(2)
    slate = method.propose_slate(data([same_member, other], cap=2, holders=(offer,)))
    assert ids(slate) == [2]
    assert "already has a representative" in reason_of(slate, 1)


def test_ineligible_applicants_are_never_proposed_and_told_why() -> None:
    slate = method.propose_slate(data([cand(1, eligible=False), cand(2)], cap=5))
    assert ids(slate) == [2]
    assert reason_of(slate, 1).startswith("No longer a Member.")


def test_a_second_representative_only_once_nobody_from_another_member_is_left() -> None:
    first, second = cand(1, member=7), cand(2, member=7, region="Africa")
    other = cand(3, member=8)
    slate = method.propose_slate(data([first, second, other], cap=10))
    # The second representative brings a new region, yet comes only after Member 8's applicant.
    assert ids(slate)[-1] == 2
    assert set(ids(slate)) == {1, 2, 3}


def test_a_second_representative_may_take_the_last_free_seat_when_nobody_else_waits() -> None:
    slate = method.propose_slate(data([cand(1, member=7), cand(2, member=7)], cap=2))
    assert ids(slate) == [1, 2]
    full = method.propose_slate(data([cand(1, member=7), cand(2, member=7)], cap=1))
    assert ids(full) == [1]
    assert reason_of(full, 2) == (
        "Member 7 already has a representative in the group or the proposed slate, and no seat "
        "is left for a second one. The free seats went to the proposed applicants. Staff may "
        "seat them with a written reason once a seat is free."
    )


def test_an_eligible_applicant_of_another_member_blocks_a_second_representative() -> None:
    holders = (held(90, member=7),)
    pool = [cand(1, member=7, region="Africa"), cand(2, member=8)]
    inp = data(pool, cap=3, holders=holders)
    # Member 7's second representative brings a new region, yet waits for Member 8's applicant.
    assert ids(method.propose_slate(inp)) == [2, 1]
    assert verification.verify_slate(inp, [1, 2]) == [
        "#1 (application 1): a second representative of Member 7"
    ]


def test_an_ineligible_applicant_of_another_member_does_not_block_a_second_representative() -> None:
    # A former Member's representative can never be seated: they do not "wait" for a seat.
    pool = [cand(1, member=7), cand(2, member=7), cand(3, member=8, eligible=False)]
    slate = method.propose_slate(data(pool, cap=10))
    assert ids(slate) == [1, 2]
    assert verification.verify_slate(data(pool, cap=10), [1, 2]) == []
    state = method._State(data(pool, cap=10, holders=(held(90, member=7),)))
    assert state.others_waiting(pool[1]) == 0
    assert [c.allowed for c in state.checks(pool[1]) if c.rule == rules.ONE_PER_MEMBER] == [True]


def test_an_ipaf_participant_or_an_expert_waiting_blocks_a_second_representative() -> None:
    for perspective in ("ipaf", "expert"):
        outsider = replace(
            cand(3, region="Africa", perspective=perspective), member_id=None, member_rep=False
        )
        pool = [cand(1, member=7), cand(2, member=7), outsider]
        holders = (held(90, member=7),)
        slate = method.propose_slate(data(pool, cap=2, holders=holders))
        assert ids(slate) == [3]
        assert verification.verify_slate(data(pool, cap=3, holders=holders), [1, 3]) == [
            "#1 (application 1): a second representative of Member 7"
        ]


def test_second_representatives_of_two_members_do_not_block_each_other() -> None:
    # Members 7 and 8 each hold a seat; each has a second representative waiting. Neither is
    # "someone else waiting" for the other: both may be seated while seats are free.
    holders = (held(90, member=7), held(91, member=8))
    pool = [cand(1, member=7), cand(2, member=8)]
    slate = method.propose_slate(data(pool, cap=4, holders=holders))
    assert sorted(ids(slate)) == [1, 2]
    assert verification.verify_slate(data(pool, cap=4, holders=holders), [1, 2]) == []
    # Member 8's first representative still counts while Member 8 holds nothing yet.
    first_of_8 = verification.verify_slate(data(pool, cap=4, holders=holders[:1]), [1, 2])
    assert first_of_8 == ["#1 (application 1): a second representative of Member 7"]


def test_someone_held_back_by_the_group_limit_still_waits_for_a_second_representative() -> None:
    # Member 8's applicant is eligible and would be a first representative, so they wait, even
    # though the group limit keeps them out of the proposal: staff may seat them with a reason.
    holders = (held(90, member=7),)
    pool = [cand(1, member=7), cand(2, member=8), cand(3, member=9), cand(4, member=10)]
    inp = data(pool, cap=3, holders=holders, limit=1, elsewhere={8: frozenset({5})})
    slate = method.propose_slate(inp)
    assert ids(slate) == [3, 4]
    assert reason_of(slate, 1).startswith("Member 7 already has a representative")
    assert "Members are limited to 1 group(s)" in reason_of(slate, 2)


def test_group_limit_blocks_a_member_seated_elsewhere_only_when_oversubscribed() -> None:
    elsewhere = {7: frozenset({2})}
    pool = [cand(1, member=7, region="Africa"), cand(2), cand(3)]
    over = method.propose_slate(data(pool, cap=2, limit=1, elsewhere=elsewhere))
    assert 1 not in ids(over)
    assert "Members are limited to 1 group(s)" in reason_of(over, 1)
    room = method.propose_slate(data(pool, cap=3, limit=1, elsewhere=elsewhere))
    assert 1 in ids(room)
    two_allowed = method.propose_slate(data(pool, cap=2, limit=2, elsewhere=elsewhere))
    assert ids(two_allowed)[0] == 1


def test_declined_applicants_are_not_in_the_pool() -> None:
    slate = method.propose_slate(data([cand(1, status="declined"), cand(2)], cap=5))
    assert ids(slate) == [2]
    assert [left.application_id for left in slate.not_proposed] == []


def test_the_result_does_not_depend_on_the_input_order() -> None:
    rng = random.Random(7)  # noqa: S311
    pool = [
        cand(
            n,
            member=rng.randint(1, 12),
            region=rng.choice(REGIONS),
            perspective=rng.choice([INDUSTRY, CIVIL, "other"]),
            segments=tuple(rng.sample(["Mining", "Refining", "Smelting", "Recycling"], 2)),
            size=rng.choice(["small", "medium", "large"]),
            focus=tuple(rng.sample(range(1, 6), 2)),
            minute=rng.randint(0, 20),
        )
        for n in range(1, 40)
    ]
    focus = tuple((n, f"Area {n}") for n in range(1, 6))
    expected = method.propose_slate(data(pool, cap=12, focus=focus))
    for _ in range(5):
        rng.shuffle(pool)
        assert method.propose_slate(data(pool, cap=12, focus=focus)) == expected


# --- verify_slate -----------------------------------------------------------------------------


def test_verify_slate_names_every_broken_rule() -> None:
    holders = (held(90, member=7),)
    pool = [cand(1, member=7), cand(2, eligible=False), cand(3, member=5), cand(4), cand(5)]
    inp = data(pool, cap=4, holders=holders, limit=1, elsewhere={5: frozenset({9})})
    found = verification.verify_slate(inp, [1, 2, 2, 3, 4, 99, 5])
    text = "\n".join(found)
    assert "#1 (application 1): a second representative of Member 7" in text
    assert "#2 (application 2): not eligible" in text
    assert "#3 (application 2): proposed twice" in text
    assert "#4 (application 3): Member 5 already sits in or is offered a seat in 1 other" in text
    assert "#5 (application 4): over the cap of 4" in text
    assert "#6 (application 99): not awaiting selection in this group" in text
    assert verification.verify_slate(inp, method.propose_slate(inp).application_ids) == []


def test_slates_for_several_groups_respect_the_group_limit_together() -> None:
    shared = 7
    groups = [
        data(
            [cand(10 * g + 1, member=shared, region="Africa"), cand(10 * g + 2), cand(10 * g + 3)],
            cap=2,
            limit=1,
            group_id=g,
        )
        for g in (1, 2)
    ]
    apart = [method.propose_slate(g) for g in groups]
    # Each group alone would take Member 7: seated one after the other, that breaks the limit.
    assert verification.verify_slates(groups, apart)
    together = method.propose_slates(groups)
    assert verification.verify_slates(groups, together) == []
    assert 11 in together[0].application_ids
    assert 21 not in together[1].application_ids


# --- Properties on random pools ---------------------------------------------------------------


@st.composite
def inputs(draw: st.DrawFn) -> SelectionInput:
    members = draw(st.integers(min_value=1, max_value=8))
    cap = draw(st.integers(min_value=1, max_value=12))
    focus = tuple((n, f"Area {n}") for n in range(1, draw(st.integers(0, 5)) + 1))
    trait = st.builds(
        Traits,
        region=st.sampled_from([*REGIONS, "Unknown"]),
        perspective=st.sampled_from([INDUSTRY, CIVIL, "other", "ipaf", "expert"]),
        segments=st.lists(st.sampled_from(["A", "B", "C", "D"]), max_size=3, unique=True).map(
            tuple
        ),
        size_band=st.sampled_from(["small", "medium", "large", "n/a"]),
        focus_areas=st.frozensets(st.sampled_from([f for f, _ in focus] or [0]), max_size=3),
    )
    n_holders = draw(st.integers(min_value=0, max_value=cap))
    holders = tuple(
        Holder(
            person_id=500 + n,
            member_id=draw(st.one_of(st.none(), st.integers(1, members))),
            traits=draw(trait),
            kind=draw(st.sampled_from([SEAT, OFFER])),
        )
        for n in range(n_holders)
    )
    candidates = []
    for n in range(draw(st.integers(min_value=0, max_value=20))):
        member = draw(st.one_of(st.none(), st.integers(1, members)))
        candidates.append(
            Candidate(
                application_id=n + 1,
                person_id=n + 1,
                member_id=member,
                member_name=f"M{member}",
                member_rep=member is not None,
                eligible=draw(st.sampled_from([True, True, True, False])),
                eligibility_message="Not eligible.",
                traits=draw(trait),
                priority=draw(st.integers(-1, 2)),
                applied_at=T0 + datetime.timedelta(minutes=draw(st.integers(0, 5))),
                status=draw(st.sampled_from(["submitted", "waiting", "waiting", "declined"])),
            )
        )
    elsewhere = {
        m: frozenset(draw(st.lists(st.integers(2, 4), max_size=2))) for m in range(1, members + 1)
    }
    return SelectionInput(
        group_id=1,
        seat_cap=cap,
        member_group_limit=draw(st.sampled_from([None, 1, 2])),
        focus_areas=focus,
        holders=holders,
        candidates=tuple(candidates),
        member_groups_elsewhere=elsewhere,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs(), st.randoms(use_true_random=False))
def test_a_proposal_never_breaks_a_hard_rule_and_explains_everyone(
    inp: SelectionInput, rng: random.Random
) -> None:
    slate = method.propose_slate(inp)
    assert verification.verify_slate(inp, slate.application_ids) == []
    assert len(slate.proposals) <= max(0, slate.free_at_start)
    pool = {c.application_id for c in inp.pool}
    left = [n.application_id for n in slate.not_proposed]
    assert sorted(slate.application_ids + left) == sorted(pool)
    assert all(n.reason for n in slate.not_proposed)
    if len(slate.proposals) < slate.free_at_start:
        # The slate stopped early only because everyone left is blocked by a rule.
        assert all(n.blocked_by for n in slate.not_proposed)
    # The fast score that ranks and the itemised gain that explains are the same number.
    state = method._State(inp)
    for candidate in inp.pool:
        explained = explanations._gain(state, candidate.traits, DEFAULT_WEIGHTS)[0]
        assert state.score(candidate, DEFAULT_WEIGHTS) == pytest.approx(explained)
    shuffled = list(inp.candidates)
    rng.shuffle(shuffled)
    assert (
        method.propose_slate(SelectionInput(**{**inp.__dict__, "candidates": tuple(shuffled)}))
        == slate
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs(), st.randoms(use_true_random=False))
def test_the_counts_the_rules_read_match_a_plain_recount(
    inp: SelectionInput, rng: random.Random
) -> None:
    """``_State`` keeps running counts of who waits; after any sequence of seatings they equal a
    plain recount of the rules' definitions."""
    state = method._State(inp)
    order = list(inp.candidates)
    rng.shuffle(order)
    for taken in [None, *order[: rng.randint(0, len(order))]]:
        if taken is not None:
            state.take(taken)
        left = list(state.remaining.values())
        assert state.oversubscribed == (sum(c.eligible for c in left) > state.free)
        for candidate in inp.candidates:
            if candidate.member_id is None:
                continue
            expected = [
                c
                for c in left
                if c.application_id != candidate.application_id
                and c.member_id != candidate.member_id
                and c.eligible
                and not (c.member_rep and state.member_holding[c.member_id or 0])
            ]
            assert state.others_waiting(candidate) == len(expected)


# --- Against the database: the same rules as membership.rules ---------------------------------


def _profile(
    org: Organisation, member: Member | None = None, **kwargs: object
) -> ParticipantProfile:
    if member is None and kwargs.get("affiliation", "member") == "member":
        member = MemberFactory.create(organisation=org)
    return ParticipantProfileFactory.create(organisation=org, member=member, **kwargs)


def _apply(group: WorkingGroup, profile: ParticipantProfile, **kwargs: object) -> Application:
    return ApplicationFactory.create(group=group, profile=profile, **kwargs)


def _compare_with_rules(group: WorkingGroup) -> None:
    workbench = workbench_for_group(group)
    state = rules.GroupState.read(rules_group(group))
    for row in workbench.rows:
        expected = rules.seating_checks(state, row.application.profile)
        got = row.checks
        assert [(c.rule, c.allowed, c.overridable) for c in got] == [
            (c.rule, c.allowed, c.overridable) for c in expected
        ], row.application


def rules_group(group: WorkingGroup) -> WorkingGroup:
    return WorkingGroup.objects.select_related("organisation").get(pk=group.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("limit", [None, 1, 2])
def test_rule_results_agree_with_membership_rules(
    org: Organisation, in_org: Organisation, limit: int | None, secretariat
) -> None:
    org.member_group_limit = limit
    org.save()
    group = WorkingGroupFactory.create(organisation=org, seat_cap=4, slug="circularity")
    other_groups = [WorkingGroupFactory.create(organisation=org) for _ in range(2)]
    busy = MemberFactory.create(organisation=org, name="Busy Alu")
    rep_elsewhere = _profile(org, busy)
    for other in other_groups:
        services.seat_take(application=_apply(other, _profile(org, busy)), acting_user=secretariat)
    seated_member = MemberFactory.create(organisation=org, name="Seated Alu")
    services.seat_take(
        application=_apply(group, _profile(org, seated_member)), acting_user=secretariat
    )
    offered = _apply(group, _profile(org), status=Application.Status.WAITING)
    Offer.objects.create(
        group=group, application=offered, expires_at=timezone.now() + datetime.timedelta(days=7)
    )
    Application.objects.filter(pk=offered.pk).update(status=Application.Status.OFFERED)
    _apply(group, rep_elsewhere)
    _apply(group, _profile(org, seated_member))  # a second representative
    _apply(group, _profile(org, MemberFactory.create(organisation=org, is_current=False)))
    _apply(group, _profile(org, affiliation=ParticipantProfile.Affiliation.IPAF))
    _apply(group, _profile(org, affiliation=ParticipantProfile.Affiliation.EXPERT))
    _apply(group, _profile(org), status=Application.Status.DECLINED)
    # A Member with no seat anywhere, but an open offer in another group.
    pending = MemberFactory.create(organisation=org, name="Pending Alu")
    offered_elsewhere = _apply(other_groups[0], _profile(org, pending))
    Offer.objects.create(
        group=other_groups[0],
        application=offered_elsewhere,
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    Application.objects.filter(pk=offered_elsewhere.pk).update(status=Application.Status.OFFERED)
    pending_here = _apply(group, _profile(org, pending))
    _compare_with_rules(group)
    workbench = workbench_for_group(group)
    refused = {c.rule for row in workbench.rows for c in row.checks if c.blocks}
    # The scenario exercises every rule that can refuse, not only the easy cases.
    assert {rules.ELIGIBLE, rules.ONE_PER_MEMBER} <= refused
    assert (rules.MEMBER_GROUP_LIMIT in refused) == (limit is not None)
    [row] = [r for r in workbench.rows if r.application.pk == pending_here.pk]
    assert (row.other_groups, row.offered_groups) == ([], [other_groups[0].name])
    limited = [c for c in row.checks if c.rule == rules.MEMBER_GROUP_LIMIT and c.blocks]
    assert bool(limited) == (limit == 1)
    # Fill the group: every rule result changes, and still agrees.
    for application in Application.objects.filter(
        group=group, status=Application.Status.SUBMITTED, profile__affiliation="ipaf"
    ):
        services.seat_take(application=application, acting_user=secretariat)
    _compare_with_rules(group)


@pytest.mark.django_db
@pytest.mark.parametrize("cap", [2, 3, 4])
@pytest.mark.parametrize("others", ["nobody", "ineligible", "ipaf", "same member"])
def test_second_representative_rule_agrees_at_every_boundary(
    org: Organisation, in_org: Organisation, secretariat, cap: int, others: str
) -> None:
    group = WorkingGroupFactory.create(organisation=org, seat_cap=cap, slug="wg")
    member = MemberFactory.create(organisation=org)
    services.seat_take(application=_apply(group, _profile(org, member)), acting_user=secretariat)
    second = _apply(group, _profile(org, member))
    if others == "ineligible":
        _apply(group, _profile(org, MemberFactory.create(organisation=org, is_current=False)))
    elif others == "ipaf":
        _apply(group, _profile(org, affiliation=ParticipantProfile.Affiliation.IPAF))
    elif others == "same member":
        _apply(group, _profile(org, member))
    _compare_with_rules(group)
    workbench = workbench_for_group(rules_group(group))
    for application_id in workbench.slate.application_ids:
        services.seat_take(
            application=Application.objects.get(pk=application_id), acting_user=secretariat
        )
    # Once the IPAF participant is proposed, nobody from another Member is left; an ineligible
    # applicant is never seated and does not count as waiting.
    seated = others in ("nobody", "same member", "ineligible") or (others == "ipaf" and cap >= 3)
    assert Application.objects.get(pk=second.pk).status == (
        Application.Status.SEATED if seated else Application.Status.SUBMITTED
    )


@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(6))
def test_the_proposed_slate_can_be_seated_in_its_order_without_an_override(
    org: Organisation, in_org: Organisation, secretariat, seed: int
) -> None:
    rng = random.Random(seed)  # noqa: S311
    org.member_group_limit = rng.choice([None, 1, 2])
    org.save()
    segments = [ValueChainSegmentFactory.create(organisation=org, name=n) for n in "ABCD"]
    countries = ["DE", "BR", "CN", "ZA", "US", "AU", "IN", "CA"]
    members = []
    for n in range(rng.randint(3, 9)):
        member = MemberFactory.create(
            organisation=org,
            name=f"Member {seed}-{n}",
            country=rng.choice(countries),
            perspective=rng.choice(list(Member.Perspective.values)),
            size_band=rng.choice(list(Member.SizeBand.values)),
            is_current=rng.random() > 0.1,
        )
        member.segments.set(rng.sample(segments, rng.randint(0, 2)))
        members.append(member)
    group = WorkingGroupFactory.create(organisation=org, seat_cap=rng.randint(2, 8), slug="wg")
    areas = [FocusAreaFactory.create(group=group) for _ in range(4)]
    elsewhere = WorkingGroupFactory.create(organisation=org, seat_cap=30)
    for member in rng.sample(members, min(2, len(members))):
        if member.is_current:
            services.seat_take(
                application=_apply(elsewhere, _profile(org, member)), acting_user=secretariat
            )
    for n in range(rng.randint(3, 16)):
        kind = rng.random()
        if kind < 0.1:
            profile = _profile(org, affiliation=ParticipantProfile.Affiliation.IPAF, country="BR")
        else:
            profile = _profile(org, rng.choice(members))
        application = _apply(
            group,
            profile,
            status=rng.choice([Application.Status.SUBMITTED, Application.Status.WAITING]),
            priority=rng.randint(0, 2),
            applied_at=T0 + datetime.timedelta(minutes=n),
        )
        application.focus_areas.set(rng.sample(areas, rng.randint(0, 3)))
    workbench = workbench_for_group(rules_group(group))
    slate = workbench.slate
    assert verification.verify_slate(workbench.data, slate.application_ids) == []
    for application_id in slate.application_ids:
        services.seat_take(
            application=Application.objects.get(pk=application_id), acting_user=secretariat
        )
    assert Seat.objects.filter(group=group, ended_at__isnull=True).count() <= group.seat_cap
    # Everyone not proposed is either blocked by a rule now or the group is full.
    after = workbench_for_group(rules_group(group))
    assert after.slate.application_ids == []
