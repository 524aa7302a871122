// Checkpoints: signed statements about the audit chain (docs/decisions/0007). Pure functions with
// no store behind them, so the offline verifier (`residency audit verify`) uses exactly this code.
//
// The statement is canonical JSON of
//   {format, first_seq, last_seq, head_hash, previous_checkpoint_hash, created_at}
// (keys sorted, no whitespace); its sha256 is the checkpoint's hash (what the next checkpoint links
// to) and its UTF-8 bytes are what Ed25519 signs. An unsigned checkpoint (no key configured) is the
// same statement without a signature: it still links the chain, but anyone who can write the
// database can write one, so it proves nothing to an outside auditor.

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign as signBytes,
  verify as verifyBytes,
} from "node:crypto";
import { canonicalJson, GENESIS_HASH } from "./canonical.ts";

export const CHECKPOINT_FORMAT = "residency.audit.checkpoint/1";

/** previous_checkpoint_hash of the first checkpoint. */
export const GENESIS_CHECKPOINT_HASH = GENESIS_HASH;

export type CheckpointStatement = {
  first_seq: number;
  last_seq: number;
  head_hash: string;
  previous_checkpoint_hash: string;
  /** ISO 8601 with milliseconds, UTC. */
  created_at: string;
};

export type Checkpoint = CheckpointStatement & {
  /** 1, 2, 3, … in chain order. */
  id: number;
  hash: string;
  /** Both null when the checkpoint is unsigned. */
  key_id: string | null;
  signature: string | null;
};

export type CheckpointSigner = {
  keyId: string;
  sign(statement: string): string;
};

export function statementText(s: CheckpointStatement): string {
  return canonicalJson({
    format: CHECKPOINT_FORMAT,
    first_seq: s.first_seq,
    last_seq: s.last_seq,
    head_hash: s.head_hash,
    previous_checkpoint_hash: s.previous_checkpoint_hash,
    created_at: s.created_at,
  });
}

export function checkpointHash(s: CheckpointStatement): string {
  return createHash("sha256").update(statementText(s)).digest("hex");
}

/** The checkpoint for a statement, signed when a signer is given. */
export function makeCheckpoint(
  id: number,
  statement: CheckpointStatement,
  signer: CheckpointSigner | null,
): Checkpoint {
  const text = statementText(statement);
  return {
    id,
    ...statement,
    hash: createHash("sha256").update(text).digest("hex"),
    key_id: signer?.keyId ?? null,
    signature: signer ? signer.sign(text) : null,
  };
}

/** Key id: the first 16 hex digits of sha256 over the public key's SPKI DER. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("hex").slice(0, 16);
}

/** An Ed25519 signer from a PKCS#8 PEM private key. Throws a TypeError naming what is wrong. */
export function ed25519Signer(privateKeyPem: string): CheckpointSigner & { publicKey: KeyObject } {
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (err) {
    throw new TypeError(`not a PEM private key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new TypeError(`must be an Ed25519 private key, got ${key.asymmetricKeyType ?? "a secret key"}`);
  }
  const publicKey = createPublicKey(key);
  return {
    keyId: keyIdOf(publicKey),
    publicKey,
    sign: (statement) => signBytes(null, Buffer.from(statement, "utf8"), key).toString("base64"),
  };
}

/** An Ed25519 public key from PEM (SPKI), or derived from a PEM private key. */
export function ed25519PublicKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new TypeError(`not a PEM public key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new TypeError(`must be an Ed25519 key, got ${key.asymmetricKeyType}`);
  }
  return key;
}

export type CheckpointProblem =
  | "hash_mismatch"
  | "unsigned"
  | "unknown_key"
  | "bad_signature"
  | "broken_link"
  | "not_contiguous";

/**
 * What is wrong with one checkpoint on its own (its hash, its signature), or null.
 * `publicKey` null: signatures cannot be checked, so a signed checkpoint passes on its hash and
 * an unsigned one is fine; with a key, an unsigned checkpoint or another key's is a problem.
 */
export function checkpointProblem(c: Checkpoint, publicKey: KeyObject | null): CheckpointProblem | null {
  const text = statementText(c);
  if (createHash("sha256").update(text).digest("hex") !== c.hash) return "hash_mismatch";
  if (publicKey === null) return null;
  if (c.signature === null || c.key_id === null) return "unsigned";
  if (c.key_id !== keyIdOf(publicKey)) return "unknown_key";
  let good = false;
  try {
    good = verifyBytes(null, Buffer.from(text, "utf8"), publicKey, Buffer.from(c.signature, "base64"));
  } catch {
    good = false;
  }
  return good ? null : "bad_signature";
}

/** What is wrong with `c` following `previous` (null: c is the first checkpoint), or null. */
export function linkProblem(previous: Checkpoint | null, c: Checkpoint): CheckpointProblem | null {
  const expectedHash = previous?.hash ?? GENESIS_CHECKPOINT_HASH;
  if (c.previous_checkpoint_hash !== expectedHash) return "broken_link";
  if (c.first_seq !== (previous ? previous.last_seq + 1 : 1)) return "not_contiguous";
  return null;
}
