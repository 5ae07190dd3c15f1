// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title FictraTimelock
/// @notice The FICTRA Timelock: after deployment it holds every admin, upgrade and governance role, so
/// every privileged change waits at least `minDelay` seconds in public view.
contract FictraTimelock is TimelockController {
    /// @param minDelay Minimum seconds between scheduling and executing an operation.
    /// @param proposers Accounts that may schedule (and cancel) operations.
    /// @param executors Accounts that may execute ready operations.
    /// @param admin Optional bootstrap admin (zero for none); it should renounce after set-up.
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
