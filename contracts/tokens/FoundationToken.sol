// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title FoundationToken
/// @notice The FICTRA foundation token (FT): allocated to sovereign participants, carries governance
/// votes, and moves only between holders the transfer agent has authorized.
contract FoundationToken is ERC20, ERC20Permit, ERC20Votes, AccessControl, Pausable {
    /// @notice Role that issues FT within a sovereign's allocation.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    /// @notice Role that authorizes and revokes holders.
    bytes32 public constant TRANSFER_AGENT_ROLE = keccak256("TRANSFER_AGENT_ROLE");
    /// @notice Role that pauses and unpauses (the EmergencyController).
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    struct Allocation {
        address holder;
        uint256 cap;
        uint256 issued;
    }

    mapping(bytes32 sovereignId => Allocation) private _allocations;
    mapping(address account => bool) private _authorized;

    /// @notice `sovereignId` is already registered.
    error FoundationTokenSovereignExists(bytes32 sovereignId);
    /// @notice `sovereignId` is not registered.
    error FoundationTokenUnknownSovereign(bytes32 sovereignId);
    /// @notice The holder is the zero address.
    error FoundationTokenZeroHolder(bytes32 sovereignId);
    /// @notice Issuing `requested` exceeds the `remaining` allocation of `sovereignId`.
    error FoundationTokenAllocationExceeded(bytes32 sovereignId, uint256 requested, uint256 remaining);
    /// @notice `from` or `to` is not an authorized holder.
    error FoundationTokenUnauthorizedTransfer(address from, address to);

    /// @notice Emitted when a sovereign is registered with its holder and allocation cap.
    event SovereignRegistered(bytes32 indexed sovereignId, address indexed holder, uint256 allocationCap);
    /// @notice Emitted when `amount` FT is issued to the holder of `sovereignId`.
    event TokensIssued(bytes32 indexed sovereignId, address indexed holder, uint256 amount);
    /// @notice Emitted when `account` became an authorized holder.
    event HolderAuthorized(address indexed account);
    /// @notice Emitted when `account` stopped being an authorized holder.
    event HolderRevoked(address indexed account);

    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    constructor(address admin) ERC20("FICTRA Foundation Token", "FT") ERC20Permit("FICTRA Foundation Token") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Registers `sovereignId` with its FT `holder` and `allocationCap`.
    function registerSovereign(bytes32 sovereignId, address holder, uint256 allocationCap)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (holder == address(0)) revert FoundationTokenZeroHolder(sovereignId);
        if (_allocations[sovereignId].holder != address(0)) revert FoundationTokenSovereignExists(sovereignId);
        _allocations[sovereignId] = Allocation({holder: holder, cap: allocationCap, issued: 0});
        emit SovereignRegistered(sovereignId, holder, allocationCap);
    }

    /// @notice Mints `amount` FT to the holder of `sovereignId`, within its remaining allocation.
    function issue(bytes32 sovereignId, uint256 amount) external onlyRole(ISSUER_ROLE) {
        Allocation storage a = _allocations[sovereignId];
        if (a.holder == address(0)) revert FoundationTokenUnknownSovereign(sovereignId);
        uint256 remaining = a.cap - a.issued;
        if (amount > remaining) revert FoundationTokenAllocationExceeded(sovereignId, amount, remaining);
        a.issued += amount;
        _mint(a.holder, amount);
        emit TokensIssued(sovereignId, a.holder, amount);
    }

    /// @notice Lets `account` send and receive FT.
    function authorizeHolder(address account) external onlyRole(TRANSFER_AGENT_ROLE) {
        _authorized[account] = true;
        emit HolderAuthorized(account);
    }

    /// @notice Stops `account` from sending and receiving FT.
    function revokeHolder(address account) external onlyRole(TRANSFER_AGENT_ROLE) {
        _authorized[account] = false;
        emit HolderRevoked(account);
    }

    /// @notice Pauses transfers, issuance and burning.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Lifts a pause.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /// @notice The holder, allocation cap and amount issued so far for `sovereignId`.
    function allocation(bytes32 sovereignId) external view returns (address holder, uint256 cap, uint256 issued) {
        Allocation storage a = _allocations[sovereignId];
        return (a.holder, a.cap, a.issued);
    }

    /// @notice True when `account` may send and receive FT.
    function isAuthorizedHolder(address account) external view returns (bool) {
        return _authorized[account];
    }

    /// @inheritdoc ERC20Permit
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    function _update(address from, address to, uint256 value)
        internal
        override(ERC20, ERC20Votes)
        whenNotPaused
    {
        if (from != address(0) && to != address(0) && !(_authorized[from] && _authorized[to])) {
            revert FoundationTokenUnauthorizedTransfer(from, to);
        }
        super._update(from, to, value);
    }
}
