// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IPausableTarget
/// @notice A contract the EmergencyController can pause and unpause.
interface IPausableTarget {
    /// @notice Stops the target's state-changing operations.
    function pause() external;

    /// @notice Resumes the target's state-changing operations.
    function unpause() external;

    /// @notice True while the target is paused.
    function paused() external view returns (bool);
}
