// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Compiles OpenZeppelin's ERC1967Proxy so its artifact ships with the package (UUPS proxies of
// PaymentToken and Reserve are ERC1967Proxy instances).
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
