// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {PausableUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/PausableUpgradeable.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AggregatorV3Interface} from "../oracle/AggregatorV3Interface.sol";
import {IPaymentToken} from "./IPaymentToken.sol";

/// @title Reserve
/// @notice Holds the assets backing the PaymentToken, values them with price feeds, and issues PT only
/// while the reserve covers the whole supply (secure mint). Withdrawals are not limited by the
/// collateral rule, so a drain is possible and must be caught by monitoring. Upgradeable (UUPS).
contract Reserve is Initializable, AccessControlUpgradeable, PausableUpgradeable, UUPSUpgradeable {
    using SafeERC20 for IERC20;

    /// @notice Role that deposits, withdraws, issues and redeems.
    bytes32 public constant RESERVE_MANAGER_ROLE = keccak256("RESERVE_MANAGER_ROLE");
    /// @notice Role that pauses and unpauses (the EmergencyController).
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Role that upgrades the implementation (the Timelock).
    bytes32 public constant UPGRADER_ROLE = keccak256("UPGRADER_ROLE");

    IPaymentToken private _paymentToken;
    address[] private _assets;
    mapping(address asset => address feed) private _feeds;

    /// @notice A required address is zero.
    error ReserveZeroAddress();
    /// @notice `asset` is already in the reserve.
    error ReserveAssetExists(address asset);
    /// @notice `asset` is not a reserve asset.
    error ReserveUnknownAsset(address asset);
    /// @notice The PT supply after issuance, `requestedSupply`, would exceed `reserveValue`.
    error ReserveInsufficientCollateral(uint256 requestedSupply, uint256 reserveValue);

    /// @notice Emitted when `asset` was added, priced by `feed`.
    event AssetAdded(address indexed asset, address indexed feed);
    /// @notice Emitted when `by` deposited `amount` of `asset`.
    event Deposited(address indexed asset, uint256 amount, address indexed by);
    /// @notice Emitted when `amount` of `asset` was withdrawn to `to`.
    event Withdrawn(address indexed asset, uint256 amount, address indexed to);
    /// @notice Emitted when `amount` PT was issued to `to`.
    event PaymentTokenIssued(address indexed to, uint256 amount);
    /// @notice Emitted when `amount` PT held by `from` was redeemed (burned).
    event PaymentTokenRedeemed(address indexed from, uint256 amount);

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /// @notice Initializes the proxy's storage.
    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param token The PaymentToken this reserve backs (it must grant this contract RESERVE_ROLE).
    function initialize(address admin, address token) external initializer {
        if (admin == address(0) || token == address(0)) revert ReserveZeroAddress();
        __AccessControl_init();
        __Pausable_init();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _paymentToken = IPaymentToken(token);
    }

    /// @notice Adds `token` as a reserve asset priced in USD by `feed`.
    function addAsset(address token, address feed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (token == address(0) || feed == address(0)) revert ReserveZeroAddress();
        if (_feeds[token] != address(0)) revert ReserveAssetExists(token);
        _feeds[token] = feed;
        _assets.push(token);
        emit AssetAdded(token, feed);
    }

    /// @notice Moves `amount` of `asset` from the caller into the reserve.
    function deposit(address asset, uint256 amount) external onlyRole(RESERVE_MANAGER_ROLE) whenNotPaused {
        if (_feeds[asset] == address(0)) revert ReserveUnknownAsset(asset);
        IERC20(asset).safeTransferFrom(msg.sender, address(this), amount);
        emit Deposited(asset, amount, msg.sender);
    }

    /// @notice Sends `amount` of `asset` to `to`. Not limited by the collateral rule.
    function withdraw(address asset, uint256 amount, address to)
        external
        onlyRole(RESERVE_MANAGER_ROLE)
        whenNotPaused
    {
        if (_feeds[asset] == address(0)) revert ReserveUnknownAsset(asset);
        IERC20(asset).safeTransfer(to, amount);
        emit Withdrawn(asset, amount, to);
    }

    /// @notice Mints `ptAmount` PT to `to` if the reserve still covers the whole supply afterwards.
    function issue(address to, uint256 ptAmount) external onlyRole(RESERVE_MANAGER_ROLE) whenNotPaused {
        uint256 requested = _paymentToken.totalSupply() + ptAmount;
        uint256 value = reserveValue();
        if (requested > value) revert ReserveInsufficientCollateral(requested, value);
        _paymentToken.mint(to, ptAmount);
        emit PaymentTokenIssued(to, ptAmount);
    }

    /// @notice Burns `ptAmount` PT held by `from`.
    function redeem(address from, uint256 ptAmount) external onlyRole(RESERVE_MANAGER_ROLE) whenNotPaused {
        _paymentToken.burn(from, ptAmount);
        emit PaymentTokenRedeemed(from, ptAmount);
    }

    /// @notice Pauses deposits, withdrawals, issuance and redemption.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Lifts a pause.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /// @notice The reserve assets, in the order they were added.
    function assets() external view returns (address[] memory) {
        return _assets;
    }

    /// @notice The price feed of `asset` (zero when it is not a reserve asset).
    function feedOf(address asset) external view returns (address) {
        return _feeds[asset];
    }

    /// @notice The PaymentToken this reserve backs.
    function paymentToken() external view returns (address) {
        return address(_paymentToken);
    }

    /// @notice The USD value (18 decimals) of every asset held: balance x latest feed price. Assets with
    /// a non-positive price count as zero.
    function reserveValue() public view returns (uint256 total) {
        uint256 n = _assets.length;
        for (uint256 i; i < n; ++i) {
            address asset = _assets[i];
            AggregatorV3Interface feed = AggregatorV3Interface(_feeds[asset]);
            (, int256 answer,,,) = feed.latestRoundData();
            if (answer <= 0) continue;
            uint256 balance = IERC20(asset).balanceOf(address(this));
            uint256 scale = 10 ** uint256(IERC20Metadata(asset).decimals());
            total += (balance * uint256(answer) * 1e18) / (scale * 10 ** uint256(feed.decimals()));
        }
    }

    /// @notice reserveValue() x 10000 / PT supply; type(uint256).max while the supply is zero.
    function collateralRatioBps() external view returns (uint256) {
        uint256 supply = _paymentToken.totalSupply();
        if (supply == 0) return type(uint256).max;
        return (reserveValue() * 10_000) / supply;
    }

    function _authorizeUpgrade(address) internal override onlyRole(UPGRADER_ROLE) {}
}
