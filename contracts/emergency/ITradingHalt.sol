// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ITradingHalt
/// @notice The trading-halt switch that the PaymentToken consults on every transfer.
interface ITradingHalt {
    /// @notice True while trading is halted.
    function tradingHalted() external view returns (bool);
}
