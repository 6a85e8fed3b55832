/**
 * A deterministic `IdSource` for tests: ObjectIds are `now` in seconds, a fixed middle and a
 * counter (so ids made later sort higher, as the engine's do within a second), UUIDs a counter.
 * It records what it issued, so a test can check that a new row's id came from it, at `now`.
 */
import type { IdSource } from "../../src/domain/model.js";

export interface RecordingIds extends IdSource {
  /** Every ObjectId issued, with the `nowMs` it was asked for, in order. */
  readonly objectIds: readonly { readonly id: string; readonly nowMs: number }[];
  /** Every UUID issued, in order. */
  readonly uuids: readonly string[];
}

export function sequentialIds(): RecordingIds {
  const objectIds: { id: string; nowMs: number }[] = [];
  const uuids: string[] = [];
  return {
    objectIds,
    uuids,
    objectId(nowMs: number): string {
      const seconds = Math.floor(nowMs / 1000)
        .toString(16)
        .padStart(8, "0");
      const id = `${seconds}0000000000${(objectIds.length + 1).toString(16).padStart(6, "0")}`;
      objectIds.push({ id, nowMs });
      return id;
    },
    uuid(): string {
      const id = `00000000-0000-4000-8000-${(uuids.length + 1).toString(16).padStart(12, "0")}`;
      uuids.push(id);
      return id;
    },
  };
}
