import { randomBytes, randomUUID } from "node:crypto";

import type { IdSource } from "../domain/model.js";

// ObjectId-shaped ids (24 lowercase hex: 4-byte seconds, 5 random bytes per process, 3-byte
// counter), so that clients written against the MongoDB server accept them unchanged.
const processRandom = randomBytes(5).toString("hex");
let counter = randomBytes(3).readUIntBE(0, 3);

export function newObjectId(nowMs: number): string {
  counter = (counter + 1) % 0xffffff;
  const seconds = Math.floor(nowMs / 1000) >>> 0;
  return (
    seconds.toString(16).padStart(8, "0") + processRandom + counter.toString(16).padStart(6, "0")
  );
}

/** The last UUIDv7 timestamp (ms) and the 12-bit sequence used in it. */
let lastV7Ms = 0;
let v7Sequence = 0;

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, a 12-bit sequence that keeps the ids one
 * process makes in one millisecond ascending (method 1 of §6.2: on overflow the timestamp moves
 * on by 1 ms), 62 random bits. Time-ordered ids put a new run's rows at the right edge of every
 * index led by `run_id` instead of on a random page of it: a commit writes a few pages, not one
 * per index per run (docs/benchmarks.md, issue 14). Any UUID parser accepts them.
 */
export function newUuidV7(nowMs: number): string {
  let ms = Math.max(Math.floor(nowMs), 0);
  if (ms <= lastV7Ms) {
    ms = lastV7Ms;
    v7Sequence += 1;
    if (v7Sequence > 0xfff) {
      ms += 1;
      v7Sequence = 0;
    }
  } else {
    v7Sequence = 0;
  }
  lastV7Ms = ms;
  // The last 64 bits of a v4 UUID: the RFC 9562 variant and 62 random bits. randomUUID() draws
  // from a cached entropy buffer; randomBytes() per id cost a call into OpenSSL each.
  const random = randomUUID().slice(19);
  const time = ms.toString(16).padStart(12, "0");
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${v7Sequence.toString(16).padStart(3, "0")}-${random}`;
}

export const systemIds: IdSource = { objectId: newObjectId, uuid: () => newUuidV7(Date.now()) };
