// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/ERC20Upgradeable.sol";
import {ERC20PausableUpgradeable} from
    "@openzeppelin/contracts-upgradeable/token/ERC20/extensions/ERC20PausableUpgradeable.sol";
import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {ITradingHalt} from "../emergency/ITradingHalt.sol";
import {AggregatorV3Interface} from "../oracle/AggregatorV3Interface.sol";

/// @title PaymentToken
/// @notice The FICTRA payment token (PT) that settles trades. Minted and burned only by the Reserve,
/// charges a bounded fee on transfers, enforces a compliance blocklist, and stops while trading is
/// halted or the token is paused. Secure mint: once a proof-of-reserve feed is set, a mint that would
/// take the supply above the feed's reserve value reverts. Upgradeable (UUPS) by the Timelock.
contract PaymentToken is
    Initializable,
    ERC20Upgradeable,
    ERC20PausableUpgradeable,
    AccessControlUpgradeable,
    UUPSUpgradeable
{
    /// @notice Role that mints and burns (the Reserve contract).
    bytes32 public constant RESERVE_ROLE = keccak256("RESERVE_ROLE");
    /// @notice Role that sets the transfer fee.
    bytes32 public constant FEE_MANAGER_ROLE = keccak256("FEE_MANAGER_ROLE");
    /// @notice Role that blocks and unblocks addresses.
    bytes32 public constant COMPLIANCE_ROLE = keccak256("COMPLIANCE_ROLE");
    /// @notice Role that pauses and unpauses (the EmergencyController).
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Role that upgrades the implementation (the Timelock).
    bytes32 public constant UPGRADER_ROLE = keccak256("UPGRADER_ROLE");
    /// @notice The highest transfer fee, in basis points.
    uint16 public constant MAX_FEE_BPS = 100;

    uint16 private _feeBps;
    address private _feeCollector;
    ITradingHalt private _emergency;
    mapping(address account => bool) private _blocked;
    AggregatorV3Interface private _reserveFeed; // appended after the first version's layout

    /// @notice `fee` is above the maximum `max`.
    error PaymentTokenFeeAboveMaximum(uint16 fee, uint16 max);
    /// @notice `account` is blocked and can neither send nor receive.
    error PaymentTokenBlockedAddress(address account);
    /// @notice Trading is halted by the EmergencyController.
    error PaymentTokenTradingHalted();
    /// @notice A required address is zero.
    error PaymentTokenZeroAddress();
    /// @notice Minting would take the supply to `requestedSupply`, above the proven `reserve`.
    error PaymentTokenReserveExceeded(uint256 requestedSupply, uint256 reserve);

    /// @notice Emitted when the transfer fee changed.
    event FeeChanged(uint16 oldFeeBps, uint16 newFeeBps);
    /// @notice Emitted when the fee collector changed.
    event FeeCollectorChanged(address indexed oldCollector, address indexed newCollector);
    /// @notice Emitted when the proof-of-reserve feed read by the secure-mint check changed.
    event ReserveFeedChanged(address indexed oldFeed, address indexed newFeed);
    /// @notice Emitted when `account` was blocked.
    event AddressBlocked(address indexed account);
    /// @notice Emitted when `account` was unblocked.
    event AddressUnblocked(address indexed account);

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /// @notice Initializes the proxy's storage.
    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param emergency The EmergencyController whose trading halt stops transfers.
    /// @param collector Receives transfer fees.
    /// @param initialFeeBps The initial transfer fee in basis points.
    function initialize(address admin, address emergency, address collector, uint16 initialFeeBps)
        external
        initializer
    {
        if (admin == address(0) || emergency == address(0) || collector == address(0)) {
            revert PaymentTokenZeroAddress();
        }
        if (initialFeeBps > MAX_FEE_BPS) revert PaymentTokenFeeAboveMaximum(initialFeeBps, MAX_FEE_BPS);
        __ERC20_init("FICTRA Payment Token", "PT");
        __ERC20Pausable_init();
        __AccessControl_init();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _emergency = ITradingHalt(emergency);
        _feeCollector = collector;
        _feeBps = initialFeeBps;
    }

    /// @notice Mints `amount` PT to `to`.
    /// Reverts when a proof-of-reserve feed is set and the supply afterwards would exceed its answer.
    function mint(address to, uint256 amount) external onlyRole(RESERVE_ROLE) {
        if (address(_reserveFeed) != address(0)) {
            (, int256 answer,,,) = _reserveFeed.latestRoundData();
            uint256 proven = answer > 0 ? uint256(answer) : 0;
            uint256 requested = totalSupply() + amount;
            if (requested > proven) revert PaymentTokenReserveExceeded(requested, proven);
        }
        _mint(to, amount);
    }

    /// @notice Makes `feed` (an 18-decimal AggregatorV3 proof-of-reserve feed) the secure-mint limit;
    /// the zero address turns the check off.
    function setReserveFeed(address feed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        address old = address(_reserveFeed);
        _reserveFeed = AggregatorV3Interface(feed);
        emit ReserveFeedChanged(old, feed);
    }

    /// @notice The proof-of-reserve feed read by the secure-mint check (zero: no check).
    function reserveFeed() external view returns (address) {
        return address(_reserveFeed);
    }

    /// @notice Burns `amount` PT held by `from`.
    function burn(address from, uint256 amount) external onlyRole(RESERVE_ROLE) {
        _burn(from, amount);
    }

    /// @notice Sets the transfer fee to `newFeeBps` basis points (at most MAX_FEE_BPS).
    function setFee(uint16 newFeeBps) external onlyRole(FEE_MANAGER_ROLE) {
        if (newFeeBps > MAX_FEE_BPS) revert PaymentTokenFeeAboveMaximum(newFeeBps, MAX_FEE_BPS);
        uint16 old = _feeBps;
        _feeBps = newFeeBps;
        emit FeeChanged(old, newFeeBps);
    }

    /// @notice Sends future transfer fees to `collector`.
    function setFeeCollector(address collector) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (collector == address(0)) revert PaymentTokenZeroAddress();
        address old = _feeCollector;
        _feeCollector = collector;
        emit FeeCollectorChanged(old, collector);
    }

    /// @notice Stops `account` from sending and receiving PT.
    function blockAddress(address account) external onlyRole(COMPLIANCE_ROLE) {
        _blocked[account] = true;
        emit AddressBlocked(account);
    }

    /// @notice Lets `account` send and receive PT again.
    function unblockAddress(address account) external onlyRole(COMPLIANCE_ROLE) {
        _blocked[account] = false;
        emit AddressUnblocked(account);
    }

    /// @notice Pauses transfers, minting and burning.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Lifts a pause.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /// @notice The transfer fee in basis points.
    function feeBps() external view returns (uint16) {
        return _feeBps;
    }

    /// @notice The account receiving transfer fees.
    function feeCollector() external view returns (address) {
        return _feeCollector;
    }

    /// @notice The EmergencyController consulted for trading halts.
    function emergencyController() external view returns (address) {
        return address(_emergency);
    }

    /// @notice True when `account` can neither send nor receive PT.
    function isBlocked(address account) external view returns (bool) {
        return _blocked[account];
    }

    function _update(address from, address to, uint256 value)
        internal
        override(ERC20Upgradeable, ERC20PausableUpgradeable)
    {
        if (_blocked[from]) revert PaymentTokenBlockedAddress(from);
        if (_blocked[to]) revert PaymentTokenBlockedAddress(to);
        if (from == address(0) || to == address(0)) {
            super._update(from, to, value);
            return;
        }
        if (_emergency.tradingHalted()) revert PaymentTokenTradingHalted();
        uint256 fee = (value * _feeBps) / 10_000;
        if (fee > 0 && from != _feeCollector) {
            super._update(from, _feeCollector, fee);
            super._update(from, to, value - fee);
        } else {
            super._update(from, to, value);
        }
    }

    function _authorizeUpgrade(address) internal override onlyRole(UPGRADER_ROLE) {}
}
