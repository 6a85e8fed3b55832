/**
 * Graph secrets at rest (contract §11.6): AES-256-GCM, random 12-byte nonce, no associated data,
 * stored as URL-safe base64 (with padding) of nonce ‖ ciphertext ‖ 16-byte tag.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

export class SecretsCipher {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) {
      throw new Error("SECRETS_ENCRYPTION_KEY must decode to exactly 32 bytes");
    }
    this.#key = key;
  }

  static fromBase64Url(value: string): SecretsCipher {
    return new SecretsCipher(decodeKey(value));
  }

  encrypt(plaintext: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#key, nonce);
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return toBase64Url(Buffer.concat([nonce, body, cipher.getAuthTag()]));
  }

  decrypt(stored: string): string {
    const raw = Buffer.from(stored.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    if (raw.length < 12 + 16) throw new Error("encrypted secret is too short");
    const decipher = createDecipheriv("aes-256-gcm", this.#key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([
      decipher.update(raw.subarray(12, raw.length - 16)),
      decipher.final(),
    ]).toString("utf8");
  }
}

/** Decodes URL-safe (or standard) base64; throws unless it is exactly 32 bytes. */
export function decodeKey(value: string): Buffer {
  const trimmed = value.trim();
  if (!/^[A-Za-z0-9_\-+/]+={0,2}$/.test(trimmed)) {
    throw new Error("it is not base64");
  }
  const key = Buffer.from(trimmed.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  if (key.length !== 32) throw new Error(`it decodes to ${key.length} bytes, not 32`);
  return key;
}

export function generateKey(): string {
  return toBase64Url(randomBytes(32));
}

function toBase64Url(buf: Buffer): string {
  return buf.toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}
