/**
 * MongoDB driver errors as the storage layer's own: duplicate keys as `UniqueViolationError`, an
 * unreachable server as `StorageUnavailableError`, and which errors mean "run the transaction
 * again" (MongoDB aborts a transaction on a write conflict instead of waiting).
 */
import { MongoError, MongoNetworkError, MongoServerSelectionError } from "mongodb";

import { DomainError, StorageUnavailableError } from "../../domain/errors.js";
import { UniqueViolationError } from "../errors.js";

/** E11000: a unique index refused the write. */
export const DUPLICATE_KEY = 11000;
/** WriteConflict (112) and NoSuchTransaction (251): the transaction may simply run again. */
const RETRYABLE_CODES = new Set([112, 251]);

export function isTransientTransactionError(err: unknown): boolean {
  if (!(err instanceof MongoError)) return false;
  return (
    err.hasErrorLabel("TransientTransactionError") ||
    (typeof err.code === "number" && RETRYABLE_CODES.has(err.code))
  );
}

export function isDuplicateKeyError(err: unknown): boolean {
  return err instanceof MongoError && err.code === DUPLICATE_KEY;
}

export function isMongoUnavailableError(err: unknown): boolean {
  return (
    err instanceof MongoNetworkError ||
    err instanceof MongoServerSelectionError ||
    (err instanceof MongoError &&
      (err.name === "MongoNotConnectedError" || err.name === "MongoTopologyClosedError"))
  );
}

/** The error a failed operation or transaction leaves the store as. */
export function mapMongoError(err: unknown): unknown {
  if (err instanceof DomainError || err instanceof UniqueViolationError) return err;
  if (isDuplicateKeyError(err)) {
    const index = /index: (\S+)/.exec((err as Error).message)?.[1];
    return new UniqueViolationError(index, { cause: err });
  }
  if (isMongoUnavailableError(err)) return new StorageUnavailableError(err);
  return err;
}
