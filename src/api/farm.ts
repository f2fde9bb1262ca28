// Wire types of staging farms (issue 10), shared by cli, client and daemon: the resolved spec,
// the plan, and what `farm up`, `farm down` and `farm status` return.

/** A farm spec's `[run]` table, resolved. */
export interface FarmRun {
  onError: "continue" | "stop" | "atomic";
  wait: "started" | "ssh";
  waitTimeoutSec: number;
}

/** One member after merging defaults, then its platform, then itself: the clone it stands for. */
export interface MemberSpec {
  /** Its key in the spec (`[members.<key>]`). */
  key: string;
  platform: string | null;
  /** The VM's short name: `name` in the spec, else `<farm>-<key>`. */
  name: string;
  source: string;
  group?: string;
  memory?: string;
  balloon?: string;
  /** As CloneRequest.web: null = no web entry, undefined = `<name>.<public_domain>`. */
  web?: string | null;
  start: boolean;
  customize?: boolean;
  /** `farm down` refuses it without --force. */
  protect: boolean;
  /** The farm's variables with the member's over them (spec, --var-file, --var, member). */
  vars: Record<string, string>;
}

/** A spec made concrete: what the daemon plans from. */
export interface ResolvedFarm {
  name: string;
  /** The file it was read from, for messages only. */
  file: string;
  run: FarmRun;
  /** sha256 of the canonical JSON of `members` and `run`: what the record is compared with. */
  specHash: string;
  /** In spec order. */
  members: MemberSpec[];
}

/** The body of POST /v1/farms/plan and /v1/farms/up: the spec as parsed TOML, checked by farmd. */
export interface FarmSpecInput {
  /** The TOML file parsed to a plain object by the client; farmd validates it again. */
  spec: Record<string, unknown>;
  file: string;
  /** --var-file then --var, merged by the client over the spec's [vars]. */
  vars: Record<string, string>;
  /** --platform or FARM_PLATFORM; null = all platforms. */
  platform: string | null;
}

/** One field that differs between the record and the spec. */
export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

export type FarmAction =
  | { action: "create"; member: string; name: string }
  /** Fields a clone fixes for good (source, group, web, ...): destroy, then clone again. */
  | { action: "replace"; member: string; name: string; reasons: FieldChange[] }
  /** memory/balloon (`gnt-instance modify -B` + balloon), vars (re-render what uses them). */
  | { action: "update"; member: string; name: string; changes: FieldChange[] }
  | { action: "noop"; member: string; name: string }
  /** Recorded as this farm's member, gone from the spec: destroyed only by `up --prune`. */
  | { action: "orphan"; member: string; name: string }
  /** A VM of that name that is not this farm's (hand-made, another farm's, tags disagree). */
  | { action: "refuse"; member: string; name: string; reason: string };

export interface FarmPlan {
  farm: string;
  specHash: string;
  /** sha256 of the farm's recorded state when planned: a saved plan is refused if it changed. */
  basis: string;
  platform: string | null;
  actions: FarmAction[];
}

/** How one member ended in `farm up` or `farm down`. */
export interface MemberOutcome {
  member: string;
  name: string;
  action: FarmAction["action"] | "destroy";
  status: "done" | "unchanged" | "failed" | "undone" | "skipped" | "refused";
  /** The child operation (clone, destroy, ...) when one ran. */
  opId: string | null;
  error: string | null;
  /** What an update in place did on the host: "re-rendered: dns, proxy", or that nothing uses the variables. */
  note?: string;
}

export interface FarmRunResult {
  farm: string;
  opId: string;
  members: MemberOutcome[];
}

/** One member in `farm status`. */
export interface MemberStatus {
  member: string;
  name: string;
  platform: string | null;
  /** Ganeti's view: running, ADMIN_down, ...; "missing" when the instance is gone. */
  state: string;
  ip: string | null;
  sshPort: number | null;
  webName: string | null;
  vars: Record<string, string>;
  /** What differs between the record and the host (tags, memory, instance gone, ...). */
  drift: string[];
}

export interface FarmStatus {
  farm: string;
  specHash: string;
  file: string;
  updatedAt: string;
  members: MemberStatus[];
}

export interface FarmSummary {
  farm: string;
  members: number;
  file: string;
  updatedAt: string;
}

/** The `request` of POST /v1/farms/up: the spec, and how to apply it. */
export type FarmUpRequest = FarmSpecInput & {
  /** A plan saved by `farm plan -o`: refused if planning again now differs (checkSavedPlan). */
  plan?: FarmPlan;
  /** false: a plan with a replace, or a prune, is answered 409 confirm_needed. */
  yes: boolean;
  onError?: FarmRun["onError"];
  /** Destroy the orphans too. */
  prune?: boolean;
};

/** The `request` of POST /v1/farms/down. */
export interface FarmDownRequest {
  name: string;
  platform: string | null;
  /** Destroy protected members too. */
  force: boolean;
  yes: boolean;
}

/** What a 409 confirm_needed error's details list: the members that would be replaced or destroyed. */
export interface ConfirmNeeded {
  actions: { action: "replace" | "destroy" | "orphan"; member: string; name: string }[];
}
