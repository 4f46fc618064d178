/** Encryption layer of @lbkit/memberlist: AES-GCM keyring and MetalLB key derivation. */
export { Keyring, encryptPayload, decryptWithKey, encryptOverhead, metallbSecretToKey, metallbKey } from './keyring.js';
export type { EncryptionVersion } from './keyring.js';
