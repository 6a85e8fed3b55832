/** The server's id makers: ObjectId-shaped state ids and time-ordered UUIDv7 run ids. */
import { describe, expect, it } from "vitest";

import { isObjectId } from "../../src/domain/model.js";
import { newObjectId, newUuidV7, systemIds } from "../../src/engine/ids.js";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The Unix milliseconds a UUIDv7 carries in its first 48 bits. */
const msOf = (uuid: string): number => parseInt(uuid.replace(/-/g, "").slice(0, 12), 16);

describe("ids", () => {
  it("makes RFC 9562 UUIDv7s that carry the time they were made", () => {
    // Times far ahead of the clock: the maker never goes back below an id it made before.
    const at = Date.UTC(2090, 11, 3, 13, 0, 0, 123);
    const id = newUuidV7(at + 60_000);
    expect(id).toMatch(UUID_V7);
    expect(msOf(id)).toBe(at + 60_000);
    expect(systemIds.uuid()).toMatch(UUID_V7);
  });

  it("keeps UUIDv7s ascending within a millisecond, past the 12-bit sequence, and when the clock steps back", () => {
    const at = Date.UTC(2100, 0, 1);
    const made = Array.from({ length: 10_000 }, () => newUuidV7(at));
    made.push(newUuidV7(at - 5_000)); // a clock that stepped back
    made.push(newUuidV7(at + 10_000));
    expect(new Set(made).size).toBe(made.length);
    expect([...made].sort()).toEqual(made);
    // 10,000 ids overflow the 4,096 sequence values of one millisecond twice: the time moves on.
    expect(msOf(made[9_999]!)).toBe(at + 2);
    expect(msOf(made[10_001]!)).toBe(at + 10_000);
  });

  it("makes 24-hex ObjectIds whose first 4 bytes are the seconds", () => {
    const id = newObjectId(Date.UTC(2026, 0, 1, 0, 0, 5, 999));
    expect(isObjectId(id)).toBe(true);
    expect(parseInt(id.slice(0, 8), 16)).toBe(Date.UTC(2026, 0, 1, 0, 0, 5) / 1000);
  });
});
