// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControlEnumerable} from "@openzeppelin/contracts/access/extensions/AccessControlEnumerable.sol";
import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";

/// @title CommodityFeed
/// @notice A commodity price feed fed by a set of oracle nodes, read through the Chainlink
/// AggregatorV3Interface. Nodes submit per round; once `minSubmissions` nodes have submitted, the
/// round's answer is the median of its submissions and is updated on every further submission.
contract CommodityFeed is AccessControlEnumerable, AggregatorV3Interface {
    /// @notice Role of the oracle nodes that submit answers.
    bytes32 public constant ORACLE_NODE_ROLE = keccak256("ORACLE_NODE_ROLE");

    struct Round {
        int256 answer;
        uint64 startedAt;
        uint64 updatedAt;
        uint80 answeredInRound;
        int256[] submissions;
    }

    uint8 private immutable _decimals;
    uint32 private immutable _heartbeat;
    uint16 private immutable _deviationThresholdBps;
    uint8 private immutable _minSubmissions;
    string private _description;

    uint80 private _latestRound;
    uint80 private _latestAnsweredRound;
    mapping(uint256 roundId => Round) private _rounds;
    mapping(uint256 roundId => mapping(address node => int256)) private _submissionOf;
    mapping(uint256 roundId => mapping(address node => bool)) private _submitted;

    /// @notice `roundId` is neither the open round nor the next one; `expected` opens the next round.
    error CommodityFeedInvalidRound(uint256 roundId, uint256 expected);
    /// @notice `node` already submitted in `roundId`.
    error CommodityFeedAlreadySubmitted(uint256 roundId, address node);
    /// @notice `roundId` has no data.
    error CommodityFeedRoundNotFound(uint256 roundId);
    /// @notice The minimum number of submissions is zero.
    error CommodityFeedInvalidMinSubmissions(uint8 minSubmissions);

    /// @notice Emitted when `startedBy` opened round `roundId`.
    event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);
    /// @notice Emitted when `oracle` submitted `answer` in `round`.
    event SubmissionReceived(int256 indexed answer, uint32 indexed round, address indexed oracle);
    /// @notice Emitted when round `roundId`'s answer became `current`.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    /// @param admin Receives DEFAULT_ADMIN_ROLE (manages the node set).
    /// @param nodes Receive ORACLE_NODE_ROLE.
    /// @param decimals_ Decimals of every answer.
    /// @param description_ What the feed prices, e.g. "BRENT / USD".
    /// @param heartbeat_ Seconds within which a fresh round is expected.
    /// @param deviationThresholdBps_ Price move (basis points) that should trigger a new round.
    /// @param minSubmissions_ Submissions needed before a round has an answer.
    constructor(
        address admin,
        address[] memory nodes,
        uint8 decimals_,
        string memory description_,
        uint32 heartbeat_,
        uint16 deviationThresholdBps_,
        uint8 minSubmissions_
    ) {
        if (minSubmissions_ == 0) revert CommodityFeedInvalidMinSubmissions(minSubmissions_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        for (uint256 i; i < nodes.length; ++i) {
            _grantRole(ORACLE_NODE_ROLE, nodes[i]);
        }
        _decimals = decimals_;
        _description = description_;
        _heartbeat = heartbeat_;
        _deviationThresholdBps = deviationThresholdBps_;
        _minSubmissions = minSubmissions_;
    }

    /// @notice Submits `answer` for `roundId`: the open round, or the next one (which opens it).
    function submit(uint256 roundId, int256 answer) external onlyRole(ORACLE_NODE_ROLE) {
        uint256 latest = _latestRound;
        if (roundId == latest + 1) {
            _latestRound = uint80(roundId);
            Round storage opened = _rounds[roundId];
            opened.startedAt = uint64(block.timestamp);
            opened.answeredInRound = _latestAnsweredRound;
            opened.answer = _rounds[_latestAnsweredRound].answer;
            emit NewRound(roundId, msg.sender, block.timestamp);
        } else if (roundId != latest || latest == 0) {
            revert CommodityFeedInvalidRound(roundId, latest + 1);
        }
        if (_submitted[roundId][msg.sender]) revert CommodityFeedAlreadySubmitted(roundId, msg.sender);
        _submitted[roundId][msg.sender] = true;
        _submissionOf[roundId][msg.sender] = answer;
        Round storage r = _rounds[roundId];
        r.submissions.push(answer);
        emit SubmissionReceived(answer, uint32(roundId), msg.sender);
        if (r.submissions.length >= _minSubmissions) {
            int256 median = _median(r.submissions);
            r.answer = median;
            r.updatedAt = uint64(block.timestamp);
            r.answeredInRound = uint80(roundId);
            _latestAnsweredRound = uint80(roundId);
            emit AnswerUpdated(median, roundId, block.timestamp);
        }
    }

    /// @inheritdoc AggregatorV3Interface
    function decimals() external view returns (uint8) {
        return _decimals;
    }

    /// @inheritdoc AggregatorV3Interface
    function description() external view returns (string memory) {
        return _description;
    }

    /// @inheritdoc AggregatorV3Interface
    function version() external pure returns (uint256) {
        return 4;
    }

    /// @inheritdoc AggregatorV3Interface
    /// @dev For an open round without enough submissions, `answer` and `answeredInRound` are those of
    /// the latest answered round before it, and `updatedAt` is zero.
    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80, int256, uint256, uint256, uint80)
    {
        if (roundId == 0 || roundId > _latestRound) revert CommodityFeedRoundNotFound(roundId);
        Round storage r = _rounds[roundId];
        return (roundId, r.answer, r.startedAt, r.updatedAt, r.answeredInRound);
    }

    /// @inheritdoc AggregatorV3Interface
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        uint80 roundId = _latestAnsweredRound;
        if (roundId == 0) revert CommodityFeedRoundNotFound(0);
        Round storage r = _rounds[roundId];
        return (roundId, r.answer, r.startedAt, r.updatedAt, r.answeredInRound);
    }

    /// @notice The latest round opened (it may not have an answer yet).
    function latestRound() external view returns (uint256) {
        return _latestRound;
    }

    /// @notice The latest round that has an answer.
    function latestAnsweredRound() external view returns (uint256) {
        return _latestAnsweredRound;
    }

    /// @notice What `node` submitted in `roundId` (0 when it did not submit).
    function submissionOf(uint256 roundId, address node) external view returns (int256) {
        return _submissionOf[roundId][node];
    }

    /// @notice How many nodes submitted in `roundId`.
    function submissionCount(uint256 roundId) external view returns (uint256) {
        return _rounds[roundId].submissions.length;
    }

    /// @notice Seconds within which a fresh round is expected.
    function heartbeat() external view returns (uint256) {
        return _heartbeat;
    }

    /// @notice Price move, in basis points, that should trigger a new round.
    function deviationThresholdBps() external view returns (uint256) {
        return _deviationThresholdBps;
    }

    /// @notice Submissions needed before a round has an answer.
    function minSubmissions() external view returns (uint256) {
        return _minSubmissions;
    }

    /// @notice The accounts holding ORACLE_NODE_ROLE.
    function oracleNodes() external view returns (address[] memory) {
        return getRoleMembers(ORACLE_NODE_ROLE);
    }

    /// @dev Median of `values` (mean of the two middle values for an even count), by insertion sort of
    /// a memory copy; node sets are small.
    function _median(int256[] storage values) private view returns (int256) {
        uint256 n = values.length;
        int256[] memory sorted = new int256[](n);
        for (uint256 i; i < n; ++i) {
            int256 v = values[i];
            uint256 j = i;
            while (j > 0 && sorted[j - 1] > v) {
                sorted[j] = sorted[j - 1];
                --j;
            }
            sorted[j] = v;
        }
        if (n % 2 == 1) return sorted[n / 2];
        return (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
