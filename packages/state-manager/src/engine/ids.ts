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

export const systemIds: IdSource = { objectId: newObjectId, uuid: () => randomUUID() };
