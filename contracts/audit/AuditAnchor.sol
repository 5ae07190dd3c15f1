// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title AuditAnchor
/// @notice Public, append-only record of the FICTRA Ops audit log's checkpoints: for each anchored
/// checkpoint, the RFC 6962 Merkle root over the log's first `treeSize` entries. Once anchored, a root
/// can never be changed, so anyone can check that the platform's signed checkpoints were not rewritten.
contract AuditAnchor is AccessControl {
    /// @notice Role that may anchor checkpoint roots (the platform's operator account).
    bytes32 public constant ANCHOR_ROLE = keccak256("ANCHOR_ROLE");

    mapping(uint256 treeSize => bytes32 root) private _roots;
    uint256 private _latestTreeSize;
    uint256 private _anchoredCount;

    /// @notice A checkpoint of an empty log cannot be anchored.
    error AuditAnchorEmptyTree();
    /// @notice The root given for `treeSize` is zero, which marks "not anchored".
    error AuditAnchorZeroRoot(uint256 treeSize);
    /// @notice A root for `treeSize` is already anchored (`existing`); anchored roots never change.
    error AuditAnchorAlreadyAnchored(uint256 treeSize, bytes32 existing);
    /// @notice `treeSize` is not larger than the latest anchored tree size `latest` (the log only grows).
    error AuditAnchorTreeSizeNotIncreasing(uint256 treeSize, uint256 latest);

    /// @notice Emitted when `by` anchored `root` as the Merkle root over the first `treeSize` entries.
    event RootAnchored(uint256 indexed treeSize, bytes32 root, address indexed by);

    /// @param admin Receives DEFAULT_ADMIN_ROLE (may grant and revoke ANCHOR_ROLE).
    /// @param anchorer Receives ANCHOR_ROLE.
    constructor(address admin, address anchorer) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ANCHOR_ROLE, anchorer);
    }

    /// @notice Records `root` as the Merkle root of the log's first `treeSize` entries.
    /// @dev Tree sizes strictly increase; a root is written once and never changes.
    /// @param treeSize Number of entries the checkpoint covers (> 0).
    /// @param root The RFC 6962 Merkle tree head (non-zero).
    function anchor(uint256 treeSize, bytes32 root) external onlyRole(ANCHOR_ROLE) {
        if (treeSize == 0) revert AuditAnchorEmptyTree();
        if (root == bytes32(0)) revert AuditAnchorZeroRoot(treeSize);
        bytes32 existing = _roots[treeSize];
        if (existing != bytes32(0)) revert AuditAnchorAlreadyAnchored(treeSize, existing);
        if (treeSize <= _latestTreeSize) revert AuditAnchorTreeSizeNotIncreasing(treeSize, _latestTreeSize);
        _roots[treeSize] = root;
        _latestTreeSize = treeSize;
        ++_anchoredCount;
        emit RootAnchored(treeSize, root, msg.sender);
    }

    /// @notice The root anchored for `treeSize`, or zero when none was.
    function rootOf(uint256 treeSize) external view returns (bytes32) {
        return _roots[treeSize];
    }

    /// @notice The latest anchored checkpoint: its tree size and root (0, 0 when none).
    function latest() external view returns (uint256 treeSize, bytes32 root) {
        return (_latestTreeSize, _roots[_latestTreeSize]);
    }

    /// @notice How many roots have been anchored.
    function anchoredCount() external view returns (uint256) {
        return _anchoredCount;
    }
}
