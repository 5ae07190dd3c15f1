"""ProofOfReserveFeed and the PaymentToken's secure-mint check on the deployed devnet system (the
contracts' session deployment; each test between evm_snapshot and evm_revert)."""

from __future__ import annotations

from contractkit import Actors, System

from fictra.devnet.accounts import one

E18 = 10**18
SUPPLY = 2_200_000 * E18
SEEDED = 3_300_000 * E18


async def test_deploy_wires_the_feed_into_the_token(system: System) -> None:
    assert await system.view("PaymentToken", "reserveFeed") == system.addr("ProofOfReserve")
    round_id, answer, _started, updated, answered = await system.view("ProofOfReserve", "latestRoundData")
    assert (round_id, answer, answered) == (1, SEEDED, 1) and updated > 0
    assert await system.view("ProofOfReserve", "decimals") == 18


async def test_mint_above_the_proven_reserve_reverts_even_when_the_reserve_allows_it(
    system: System, who: Actors
) -> None:
    operator = one("operator").address
    await system.send(operator, "ProofOfReserve", "updateAnswer", SUPPLY + 5 * E18)
    # Reserve.issue's own check passes (on-chain value 3.3M), the PoR feed (2.2M + 5) does not
    error = await system.revert_of(who.reserve_manager, "Reserve", "issue", who.traders[0], 6 * E18)
    assert error.error_name == "PaymentTokenReserveExceeded"
    assert error.error_args == (SUPPLY + 6 * E18, SUPPLY + 5 * E18)
    await system.send(who.reserve_manager, "Reserve", "issue", who.traders[0], 5 * E18)
    assert await system.view("PaymentToken", "totalSupply") == SUPPLY + 5 * E18
    assert (await system.view("ProofOfReserve", "latestRoundData"))[0] == 2


async def test_only_the_updater_publishes_and_only_non_negative_values(system: System, who: Actors) -> None:
    error = await system.revert_of(who.attacker, "ProofOfReserve", "updateAnswer", SEEDED)
    assert error.error_name == "AccessControlUnauthorizedAccount"
    error = await system.revert_of(one("operator").address, "ProofOfReserve", "updateAnswer", -1)
    assert (error.error_name, error.error_args) == ("ProofOfReserveFeedNegativeAnswer", (-1,))
    error = await system.revert_of(who.attacker, "PaymentToken", "setReserveFeed", who.attacker)
    assert error.error_name == "AccessControlUnauthorizedAccount"
