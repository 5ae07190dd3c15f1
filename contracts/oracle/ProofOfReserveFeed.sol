// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";

/// @title ProofOfReserveFeed
/// @notice The reserve's value in USD (18 decimals) as the monitoring platform computes it (every asset
/// balance x its oracle price, stale prices counted as zero), read through the Chainlink
/// AggregatorV3Interface like a Chainlink Proof of Reserve feed. The PaymentToken's secure-mint check
/// reads it. Each update opens and answers one round.
contract ProofOfReserveFeed is AccessControl, AggregatorV3Interface {
    /// @notice Role of the accounts that publish the reserve value (the platform's operator key).
    bytes32 public constant UPDATER_ROLE = keccak256("UPDATER_ROLE");

    struct Round {
        int256 answer;
        uint64 updatedAt;
    }

    string private _description;
    uint80 private _latestRound;
    mapping(uint256 roundId => Round) private _rounds;

    /// @notice `roundId` has no data.
    error ProofOfReserveFeedRoundNotFound(uint256 roundId);
    /// @notice `answer` is negative; a reserve value cannot be.
    error ProofOfReserveFeedNegativeAnswer(int256 answer);

    /// @notice Emitted when round `roundId`'s answer became `current`.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    /// @notice Emitted when `startedBy` opened round `roundId`.
    event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);

    /// @param admin Receives DEFAULT_ADMIN_ROLE (manages the updaters).
    /// @param updater Receives UPDATER_ROLE.
    /// @param description_ What the feed reports, e.g. "FICTRA reserve / USD".
    constructor(address admin, address updater, string memory description_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(UPDATER_ROLE, updater);
        _description = description_;
    }

    /// @notice Publishes `answer` (USD, 18 decimals) as a new round.
    function updateAnswer(int256 answer) external onlyRole(UPDATER_ROLE) {
        if (answer < 0) revert ProofOfReserveFeedNegativeAnswer(answer);
        uint80 roundId = _latestRound + 1;
        _latestRound = roundId;
        _rounds[roundId] = Round({answer: answer, updatedAt: uint64(block.timestamp)});
        emit NewRound(roundId, msg.sender, block.timestamp);
        emit AnswerUpdated(answer, roundId, block.timestamp);
    }

    /// @inheritdoc AggregatorV3Interface
    function decimals() external pure returns (uint8) {
        return 18;
    }

    /// @inheritdoc AggregatorV3Interface
    function description() external view returns (string memory) {
        return _description;
    }

    /// @inheritdoc AggregatorV3Interface
    function version() external pure returns (uint256) {
        return 1;
    }

    /// @inheritdoc AggregatorV3Interface
    function getRoundData(uint80 roundId) external view returns (uint80, int256, uint256, uint256, uint80) {
        if (roundId == 0 || roundId > _latestRound) revert ProofOfReserveFeedRoundNotFound(roundId);
        Round storage r = _rounds[roundId];
        return (roundId, r.answer, r.updatedAt, r.updatedAt, roundId);
    }

    /// @inheritdoc AggregatorV3Interface
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        uint80 roundId = _latestRound;
        if (roundId == 0) revert ProofOfReserveFeedRoundNotFound(0);
        Round storage r = _rounds[roundId];
        return (roundId, r.answer, r.updatedAt, r.updatedAt, roundId);
    }
}
