"""The CEL rules engine: rules indexed by (contract address, topic0) and (to-address, selector).

Each log meets only the rules that can match it: one dict lookup per log, and the log is decoded
and turned into a CEL context only when some rule waits on that key. A rule's ``params`` and the
manifest's contract addresses are folded into its expression as literals at build time, so one
context per event serves every rule. Evaluation errors never stop the pipeline: they are counted per
rule and logged once per rule.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cel

from fictra.alerting.findings import BlockRef, Finding
from fictra.alerting.service import jsonable
from fictra.chain.decode import (
    AbiEntry,
    DecodeError,
    EventDecoder,
    FunctionDecoder,
    event_decoders,
    function_decoders,
)
from fictra.chain.types import Block, BlockBatch, Log, Tx
from fictra.errors import ConfigError
from fictra.rules.cel import compile_expression, render_template
from fictra.rules.config import EventRuleConfig
from fictra.rules.literals import inline_params

log = logging.getLogger(__name__)
_CONTEXT_FROM = 2
RESERVED_LABELS = frozenset({"rule", "contract", "event", "function", "network"})


@dataclass(slots=True)
class RuleErrors:
    count: int
    first_message: str


@dataclass(frozen=True, slots=True)
class CompiledRule:
    config: EventRuleConfig
    program: Any
    contract: str
    address: str


@dataclass(slots=True)
class _Slot:
    """The rules waiting on one (address, topic0) or (address, selector) key, with the decoder."""

    decoder: EventDecoder | FunctionDecoder
    rules: list[CompiledRule]
    needed: frozenset[str] = frozenset()  # top-level variables any of the rules reads


class RulesEngine:
    def __init__(
        self,
        rules: Sequence[EventRuleConfig],
        *,
        contracts: Mapping[str, str],
        abis: Mapping[str, Sequence[AbiEntry]],
        network: str = "devnet",
    ) -> None:
        """``contracts`` maps manifest names to addresses, ``abis`` addresses to ABIs."""
        self.network = network
        self.names = {addr.lower(): name for name, addr in contracts.items()}
        self.errors: dict[str, RuleErrors] = {}
        self.decode_errors = 0
        self.evaluations = 0
        self._events: dict[tuple[str, str], _Slot] = {}
        self._calls: dict[tuple[str, str], _Slot] = {}
        known = sorted(self.names)
        abis_lower = {a.lower(): abi for a, abi in abis.items()}
        problems: list[str] = []
        for rule in rules:
            if not rule.enabled:
                continue
            address = contracts.get(rule.contract, "").lower()
            if not address:
                problems.append(f"rule '{rule.name}': unknown contract '{rule.contract}'")
                continue
            abi = abis_lower.get(address)
            if abi is None:
                problems.append(f"rule '{rule.name}': no ABI for {rule.contract} at {address}")
                continue
            decoders: Sequence[EventDecoder | FunctionDecoder] = (
                event_decoders(abi) if rule.kind == "event" else function_decoders(abi)
            )
            matching = [d for d in decoders if d.name == rule.target]
            if not matching:
                problems.append(f"rule '{rule.name}': {rule.contract} has no {rule.kind} '{rule.target}'")
                continue
            arg_names = {
                n
                for d in matching
                for n in (
                    d.names if isinstance(d, FunctionDecoder) else (*(n for n, _ in d.indexed), *d.data_names)
                )
            }
            missing = [a for a in rule.label_args if a not in arg_names]
            if missing:
                problems.append(f"rule '{rule.name}': {rule.target} has no argument {', '.join(missing)}")
                continue
            expression = inline_params(rule.condition, rule.params, known_contracts=known)
            compiled = CompiledRule(rule, compile_expression(expression), rule.contract, address)
            index = self._events if rule.kind == "event" else self._calls
            for decoder in matching:
                key = (address, decoder.topic0 if isinstance(decoder, EventDecoder) else decoder.selector)
                slot = index.setdefault(key, _Slot(decoder, []))
                slot.rules.append(compiled)
                slot.needed = slot.needed | frozenset(compiled.program.variables())
        if problems:
            raise ConfigError("Cannot build the rules engine: " + "; ".join(problems) + ".")

    @property
    def rule_count(self) -> int:
        return len(
            {r.config.name for slot in (*self._events.values(), *self._calls.values()) for r in slot.rules}
        )

    @property
    def configs(self) -> dict[str, EventRuleConfig]:
        """The enabled rules the engine evaluates, by name."""
        return {
            r.config.name: r.config
            for slot in (*self._events.values(), *self._calls.values())
            for r in slot.rules
        }

    def rules_for_event(self, address: str, topic0: str) -> list[CompiledRule]:
        slot = self._events.get((address.lower(), topic0.lower()))
        return list(slot.rules) if slot else []

    def rules_for_call(self, address: str, selector: str) -> list[CompiledRule]:
        slot = self._calls.get((address.lower(), selector.lower()))
        return list(slot.rules) if slot else []

    def evaluate_batch(self, batch: BlockBatch) -> list[Finding]:
        out: list[Finding] = []
        for block in batch.blocks:
            out.extend(self.evaluate_block(block))
        return out

    def evaluate_block(self, block: Block) -> list[Finding]:
        out: list[Finding] = []
        block_ctx = {"number": block.number, "hash": block.hash, "timestamp": block.timestamp}
        for tx in block.txs:
            tx_ctx: dict[str, Any] | None = None
            if self._calls and tx.to is not None and tx.selector is not None:
                slot = self._calls.get((tx.to.lower(), tx.selector.lower()))
                if slot is not None:
                    tx_ctx = _tx_context(tx)
                    out.extend(self._run(slot, tx.input, None, tx, tx_ctx, block_ctx))
            if not self._events:
                continue
            for entry in tx.logs:
                if not entry.topics:
                    continue
                slot = self._events.get((entry.address.lower(), entry.topics[0].lower()))
                if slot is not None:
                    tx_ctx = tx_ctx or _tx_context(tx)
                    out.extend(self._run(slot, None, entry, tx, tx_ctx, block_ctx))
        return out

    def _run(
        self,
        slot: _Slot,
        calldata: str | None,
        entry: Log | None,
        tx: Tx,
        tx_ctx: dict[str, Any],
        block_ctx: dict[str, Any],
    ) -> list[Finding]:
        decoder = slot.decoder
        try:
            if isinstance(decoder, EventDecoder) and entry is not None:
                args = decoder.decode(entry)
            elif isinstance(decoder, FunctionDecoder) and calldata is not None:
                args = decoder.decode(calldata)
            else:  # pragma: no cover - the index guarantees the pairing
                return []
        except DecodeError:
            self.decode_errors += 1
            return []
        address = (entry.address if entry is not None else tx.to or "").lower()
        kind = "event" if entry is not None else "function"
        variables: dict[str, Any] = {
            kind: decoder.name,
            "contract": self.names.get(address, address),
            "address": address,
            "args": args,
            "tx": tx_ctx,
            "block": block_ctx,
            "network": self.network,
            "log_index": entry.log_index if entry is not None else -1,
        }
        # A Context converts the variables once (~25 us) and then evaluates each rule in < 1 us; a plain
        # dict is converted on every evaluation (~10 us). Few rules per key (the usual case): use the dict.
        # Only the variables the rules read are converted (conversion cost grows with the context).
        needed = {k: variables[k] for k in slot.needed if k in variables}
        context: Any = needed if len(slot.rules) <= _CONTEXT_FROM else cel.Context(variables=needed)
        findings = []
        for rule in slot.rules:
            self.evaluations += 1
            try:
                result = rule.program.execute(context)
            except Exception as exc:  # any CEL evaluation failure is counted and reported, never raised
                self._error(rule, f"{type(exc).__name__}: {exc}")
                continue
            if result is True:
                findings.append(self._finding(rule, variables, kind, entry, tx))
            elif result is not False:
                self._error(rule, f"condition returned {type(result).__name__} {result!r}, not a bool")
        return findings

    def _error(self, rule: CompiledRule, message: str) -> None:
        stat = self.errors.get(rule.config.name)
        if stat is None:
            self.errors[rule.config.name] = RuleErrors(1, message)
            log.warning("rule %s failed to evaluate (reported once): %s", rule.config.name, message)
        else:
            stat.count += 1

    def error_report(self) -> list[str]:
        return [
            f"{name}: {s.count} evaluation error(s), first: {s.first_message}"
            for name, s in self.errors.items()
        ]

    def _finding(
        self, rule: CompiledRule, variables: dict[str, Any], kind: str, entry: Log | None, tx: Tx
    ) -> Finding:
        cfg = rule.config
        args = variables["args"]
        labels = {**cfg.labels, "rule": cfg.name, "contract": rule.contract, kind: variables[kind]}
        for name in cfg.label_args:
            key = f"arg_{name}" if name in RESERVED_LABELS or name in cfg.labels else name
            labels[key] = str(args.get(name, ""))
        block = variables["block"]
        return Finding(
            monitor=cfg.name,
            severity=cfg.severity,
            summary=render_template(cfg.summary, {**variables, "rule": cfg.name}),
            labels=labels,
            network=self.network,
            block=BlockRef(block["number"], block["hash"]),
            tx_hashes=(tx.hash,),
            evidence={
                "tx_hash": tx.hash,
                "block_number": block["number"],
                "block_hash": block["hash"],
                "log_index": variables["log_index"],
                "address": variables["address"],
                kind: variables[kind],
                "args": jsonable(args),
            },
            confirmations=cfg.confirmations,
            notify_repeats=cfg.repeats_notify,
        )


def _tx_context(tx: Tx) -> dict[str, Any]:
    return {
        "hash": tx.hash,
        "from": tx.sender.lower(),
        "to": (tx.to or "").lower(),
        "value": tx.value,
        "status": tx.status,
        "gas_used": tx.gas_used,
        "selector": tx.selector or "",
    }
