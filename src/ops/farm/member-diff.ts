// What differs between a member as recorded (last applied) and as the spec has it now, field by field.
import type { FieldChange, MemberSpec } from "../../api/farm.js";
import { parseSize } from "../../config/size.js";

/** An option left out of the spec: farmd's default (or the source's group) applies. */
export const DEFAULT = "(default)";

/**
 * Fields a clone fixes for good: the instance's name and FQDN (name, group), its disk (source),
 * its nginx site (web), what was written into the guest (customize). Changing one means a replace.
 */
const FIXED = ["name", "source", "group", "web", "customize"] as const;

/**
 * Fields changed in place: memory and balloon (`gnt-instance modify -B`, then the balloon);
 * protect and platform live in the record only. Variables are compared one by one ("vars.KEY").
 * `start` is not compared: it only says whether a new clone is started; `farm up` never starts
 * or stops a member that exists.
 */
const IN_PLACE = ["memory", "balloon", "protect", "platform"] as const;

const SIZES = new Set(["memory", "balloon"]);

type Field = (typeof FIXED)[number] | (typeof IN_PLACE)[number];

/** The field's value on the wire: undefined (not in the spec) is shown as DEFAULT. */
function value(m: MemberSpec, field: Field): unknown {
  if (field === "customize") return m.customize !== false; // undefined: customized, as a clone
  const v = m[field];
  return v === undefined ? DEFAULT : v;
}

function same(field: Field, a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!SIZES.has(field) || typeof a !== "string" || typeof b !== "string") return false;
  try {
    return parseSize(a) === parseSize(b); // 4G and 4096M are one size
  } catch {
    return false;
  }
}

function changes(fields: readonly Field[], from: MemberSpec, to: MemberSpec): FieldChange[] {
  return fields
    .map((field) => ({ field, from: value(from, field), to: value(to, field) }))
    .filter((c) => !same(c.field, c.from, c.to));
}

// Own keys only: a variable may be called "constructor".
const own = (vars: Record<string, string>, k: string) => (Object.hasOwn(vars, k) ? vars[k]! : null);

/** A variable added has `from` null, one removed `to` null; in key order. */
function varChanges(from: Record<string, string>, to: Record<string, string>): FieldChange[] {
  const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
  return keys
    .map((k) => ({ field: `vars.${k}`, from: own(from, k), to: own(to, k) }))
    .filter((c) => c.from !== c.to);
}

export interface MemberDiff {
  /** Non-empty: the member must be replaced (destroyed, then cloned again). */
  fixed: FieldChange[];
  /** What an update in place changes (or a replace applies as well). */
  inPlace: FieldChange[];
}

export function diffMember(recorded: MemberSpec, wanted: MemberSpec): MemberDiff {
  return {
    fixed: changes(FIXED, recorded, wanted),
    inPlace: [...changes(IN_PLACE, recorded, wanted), ...varChanges(recorded.vars, wanted.vars)],
  };
}
