// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IPaymentToken
/// @notice The part of the PaymentToken the Reserve uses.
interface IPaymentToken is IERC20 {
    /// @notice Mints `amount` PT to `to`.
    function mint(address to, uint256 amount) external;

    /// @notice Burns `amount` PT held by `from`.
    function burn(address from, uint256 amount) external;
}
