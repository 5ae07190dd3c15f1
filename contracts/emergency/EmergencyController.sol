// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IPausableTarget} from "./IPausableTarget.sol";
import {ITradingHalt} from "./ITradingHalt.sol";

/// @title EmergencyController
/// @notice The FICTRA circuit breaker. A guardian can pause every registered contract and halt trading
/// in one transaction; only governance (the Timelock) can undo either.
contract EmergencyController is AccessControl, ITradingHalt {
    /// @notice Role that may pause everything and halt trading, and nothing else.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice Role (the Timelock) that may unpause, resume trading and register targets.
    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");

    address[] private _pausables;
    mapping(address target => bool) private _registered;
    bool private _tradingHalted;

    /// @notice `target` is already registered.
    error EmergencyControllerAlreadyRegistered(address target);
    /// @notice `target` has no code, so it cannot be paused.
    error EmergencyControllerNotAContract(address target);
    /// @notice Trading is already halted.
    error EmergencyControllerTradingAlreadyHalted();
    /// @notice Trading is not halted.
    error EmergencyControllerTradingNotHalted();

    /// @notice Emitted when `target` joined the set paused by pauseAll.
    event PausableRegistered(address indexed target);
    /// @notice Emitted when pausing `target` failed (pauseAll carries on with the other targets).
    event PauseFailed(address indexed target);
    /// @notice Emitted when unpausing `target` failed (unpauseAll carries on with the other targets).
    event UnpauseFailed(address indexed target);
    /// @notice Emitted when `by` paused `count` targets.
    event AllPaused(address indexed by, uint256 count);
    /// @notice Emitted when `by` unpaused `count` targets.
    event AllUnpaused(address indexed by, uint256 count);
    /// @notice Emitted when `by` halted trading.
    event TradingHalted(address indexed by);
    /// @notice Emitted when `by` resumed trading.
    event TradingResumed(address indexed by);

    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Adds `target` to the contracts paused by pauseAll. The controller must hold the
    /// target's pauser role.
    function registerPausable(address target) external onlyRole(GOVERNANCE_ROLE) {
        if (target.code.length == 0) revert EmergencyControllerNotAContract(target);
        if (_registered[target]) revert EmergencyControllerAlreadyRegistered(target);
        _registered[target] = true;
        _pausables.push(target);
        emit PausableRegistered(target);
    }

    /// @notice Pauses every registered target that is not already paused. A target that cannot be
    /// paused does not stop the others: it is reported with PauseFailed.
    function pauseAll() external onlyRole(GUARDIAN_ROLE) {
        uint256 count;
        uint256 n = _pausables.length;
        for (uint256 i; i < n; ++i) {
            IPausableTarget target = IPausableTarget(_pausables[i]);
            if (_isPaused(target)) continue;
            try target.pause() {
                ++count;
            } catch {
                emit PauseFailed(address(target));
            }
        }
        emit AllPaused(msg.sender, count);
    }

    /// @notice Unpauses every registered target that is paused; failures are reported with
    /// UnpauseFailed.
    function unpauseAll() external onlyRole(GOVERNANCE_ROLE) {
        uint256 count;
        uint256 n = _pausables.length;
        for (uint256 i; i < n; ++i) {
            IPausableTarget target = IPausableTarget(_pausables[i]);
            if (!_isPaused(target)) continue;
            try target.unpause() {
                ++count;
            } catch {
                emit UnpauseFailed(address(target));
            }
        }
        emit AllUnpaused(msg.sender, count);
    }

    /// @notice Halts PaymentToken trading (transfers) until governance resumes it.
    function haltTrading() external onlyRole(GUARDIAN_ROLE) {
        if (_tradingHalted) revert EmergencyControllerTradingAlreadyHalted();
        _tradingHalted = true;
        emit TradingHalted(msg.sender);
    }

    /// @notice Resumes trading after a halt.
    function resumeTrading() external onlyRole(GOVERNANCE_ROLE) {
        if (!_tradingHalted) revert EmergencyControllerTradingNotHalted();
        _tradingHalted = false;
        emit TradingResumed(msg.sender);
    }

    /// @inheritdoc ITradingHalt
    function tradingHalted() external view returns (bool) {
        return _tradingHalted;
    }

    /// @notice Every registered target, in registration order.
    function pausables() external view returns (address[] memory) {
        return _pausables;
    }

    /// @dev A target whose paused() cannot be read counts as not paused, so pauseAll still tries it.
    function _isPaused(IPausableTarget target) private view returns (bool) {
        try target.paused() returns (bool isPaused) {
            return isPaused;
        } catch {
            return false;
        }
    }
}
