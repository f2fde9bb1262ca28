// Farm membership as Ganeti tags (issue 10): `farmctl:farm:<farm>` and `farmctl:member:<key>` on
// the instance, so a farm recognises its own VMs even against a stale or lost inventory.
import { BadInput } from "../api/errors.js";

/** Ganeti's own rules (lib/objects.py TaggableObject.ValidateTag, constants MAX_TAG_LEN). */
export const GANETI_TAG = /^[A-Za-z0-9_.+*/:@-]+$/;
export const GANETI_MAX_TAG_LEN = 128;

const FARM_PREFIX = "farmctl:farm:";
const MEMBER_PREFIX = "farmctl:member:";

/** Throws unless Ganeti would accept `tag`: farmd never submits a job Ganeti refuses for it. */
export function checkTag(tag: string): string {
  if (tag.length === 0 || tag.length > GANETI_MAX_TAG_LEN || !GANETI_TAG.test(tag)) {
    throw new BadInput(
      `'${tag.slice(0, 160)}' is not a valid Ganeti tag`,
      `a tag is 1 to ${GANETI_MAX_TAG_LEN} characters of letters, digits and _.+*/:@-`,
      { tag },
    );
  }
  return tag;
}

/** The tags `gnt-instance add --tags` gives a farm's member. */
export function farmTags(farm: string, member: string): string[] {
  return [checkTag(`${FARM_PREFIX}${farm}`), checkTag(`${MEMBER_PREFIX}${member}`)];
}

export interface FarmTags {
  farm: string | null;
  member: string | null;
}

/**
 * The farm and member an instance's tags name; null where none. Two different values (tags added
 * by hand) come back comma-joined: never a valid name, so they match no farm and show in refusals.
 */
export function parseFarmTags(tags: readonly string[]): FarmTags {
  const values = (prefix: string) => {
    const found = [...new Set(tags.filter((t) => t.startsWith(prefix)))];
    return found.length ? found.map((t) => t.slice(prefix.length)).join(",") : null;
  };
  return { farm: values(FARM_PREFIX), member: values(MEMBER_PREFIX) };
}
